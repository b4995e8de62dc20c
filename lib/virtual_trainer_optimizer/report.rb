# frozen_string_literal: true

require "json"
require "time"
require_relative "introspection"
require_relative "indexes"
require_relative "retention"
require_relative "report/jsonl_workload"
require_relative "report/infrastructure"

module VirtualTrainerOptimizer
  # The full report: what the workload shows (assessment), what to change
  # (optimization, infrastructure, data governance) and in which order
  # (roadmap). Ruby gathers the evidence — the detector's JSON-lines
  # workload, the schema, the index advisor, the retention check, the
  # deployment's shape — and the core builds and renders the report.
  #
  #   VirtualTrainerOptimizer::Report.generate(connection: ActiveRecord::Base.connection, format: :html)
  module Report
    FORMATS = %w[text markdown json html].freeze

    module_function

    # The report as a String. `format`: text, markdown, json or html;
    # `color:` ANSI colours in text; `jsonl:` the workload file(s) (the
    # configured jsonl_path by default); `infrastructure:` overrides of
    # config/vto_infrastructure.yml; `app:` the title.
    def generate(connection:, format: "text", color: false, jsonl: nil, infrastructure: {}, app: nil, root: nil,
                 options: {})
      format = format.to_s
      raise ArgumentError, "format must be one of #{FORMATS.join(', ')}, got #{format.inspect}" unless FORMATS.include?(format)

      data = input(connection: connection, jsonl: jsonl, infrastructure: infrastructure, app: app, root: root,
                   options: options)
      render(data, format, color: color)
    end

    # The core's input: every source gathered, as a Hash.
    def input(connection:, jsonl: nil, infrastructure: {}, app: nil, root: nil, options: {})
      root ||= VirtualTrainerOptimizer.config.app_root_path
      paths = jsonl || VirtualTrainerOptimizer.config.jsonl_path
      raise ArgumentError, "no workload: set config.jsonl_path or pass jsonl:" if paths.nil?

      JsonlSink.flush
      dialect = Introspection.dialect_of(connection).to_s
      source = JsonlWorkload.new(paths)
      schema = Introspection.schema(connection, usage: dialect == "postgresql")
      {
        app: app || app_name, generated_at: Time.now.utc.iso8601, dialect: dialect,
        workload: source.workload(dialect), findings: source.findings,
        schema: { tables: schema[:tables].map { |t| t.slice(:name, :rows, :size_bytes) } },
        indexes: index_suggestions(connection, paths),
        governance: Retention.check(connection: connection).map(&:to_h),
        infrastructure: Infrastructure.collect(connection, root, infrastructure),
        options: options
      }
    end

    def render(input, format, color: false)
      format = "text_color" if format.to_s == "text" && color
      Native.report(JSON.generate(input), format.to_s)
    end

    def index_suggestions(connection, paths)
      Indexes.analyze(connection: connection, workload: Array(paths).first, usage: false).map do |s|
        s.to_h.merge(queries: Array(s.queries).map { |q| q.is_a?(Hash) ? (q["fingerprint"] || q[:fingerprint]) : q })
      end
    end

    def app_name
      return "this app" unless defined?(Rails) && Rails.respond_to?(:application) && Rails.application

      Rails.application.class.module_parent_name.to_s.gsub(/([a-z])([A-Z])/, '\1 \2')
    end
  end
end
