# frozen_string_literal: true

require "json"
require "time"
require_relative "introspection"
require_relative "indexes"
require_relative "retention"
require_relative "report/jsonl_workload"
require_relative "report/redis_workload"
require_relative "report/pg_stat_statements_workload"
require_relative "report/infrastructure"
require_relative "report/external_input"

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
    SOURCES = %i[jsonl redis pg_stat_statements].freeze

    module_function

    # The report as a String. `format`: text, markdown, json or html;
    # `color:` ANSI colours in text; `source:` where the workload comes from:
    # :jsonl (the detector's files: `jsonl:`, the configured jsonl_path by
    # default), :redis (every process's aggregate, config.redis_url) or
    # :pg_stat_statements (the database's own, PostgreSQL); `infrastructure:`
    # overrides of config/vto_infrastructure.yml; `app:` the title.
    def generate(connection:, format: "text", color: false, source: :jsonl, jsonl: nil, infrastructure: {}, app: nil,
                 root: nil, options: {})
      format = format.to_s
      raise ArgumentError, "format must be one of #{FORMATS.join(', ')}, got #{format.inspect}" unless FORMATS.include?(format)

      data = input(connection: connection, source: source, jsonl: jsonl, infrastructure: infrastructure, app: app,
                   root: root, options: options)
      render(data, format, color: color)
    end

    # The core's input: every source gathered, as a Hash.
    def input(connection:, source: :jsonl, jsonl: nil, infrastructure: {}, app: nil, root: nil, options: {})
      root ||= VirtualTrainerOptimizer.config.app_root_path
      dialect = Introspection.dialect_of(connection).to_s
      workload, index_workload = workload_source(source.to_sym, connection, jsonl)
      schema = Introspection.schema(connection, usage: dialect == "postgresql")
      totals = workload.workload(dialect)
      declared = Infrastructure.declared(root, infrastructure)
      {
        app: app || app_name, generated_at: Time.now.utc.iso8601, dialect: dialect,
        workload: totals, findings: findings_of(workload, source.to_sym),
        schema: { tables: schema[:tables].map { |t| t.transform_keys(&:to_s).slice("name", "rows", "size_bytes") } },
        indexes: index_suggestions(connection, index_workload),
        governance: Retention.check(connection: connection).map(&:to_h),
        infrastructure: Infrastructure.collect(connection, root, declared),
        external: ExternalInput.collect(workload.external_scopes, totals[:window_seconds], declared, root),
        options: options
      }
    end

    # The workload reader, and what the index advisor reads its workload
    # from (nil: no workload-derived indexes, only the schema's).
    def workload_source(source, connection, jsonl)
      config = VirtualTrainerOptimizer.config
      case source
      when :jsonl
        paths = jsonl || config.jsonl_path
        raise ArgumentError, "no workload: set config.jsonl_path or pass jsonl:" if paths.nil?

        JsonlSink.flush
        paths = Array(paths).map { |p| File.expand_path(p.to_s, config.app_root_path) }
        [JsonlWorkload.new(paths), paths.first]
      when :redis
        raise ArgumentError, "source: :redis needs config.redis_url" if config.redis_url.nil?

        RedisSink.flush
        [RedisWorkload.new(redis_url: config.redis_url, namespace: config.redis_namespace), nil]
      when :pg_stat_statements
        [PgStatStatementsWorkload.new(connection), :pg_stat_statements]
      else
        raise ArgumentError, "source must be one of #{SOURCES.map(&:inspect).join(', ')}, got #{source.inspect}"
      end
    end

    # The database's slow statements belong to no request or job.
    def findings_of(workload, source)
      findings = workload.findings
      return findings unless source == :pg_stat_statements

      findings.map { |f| f.merge(scope_name: f[:scope_name] || "the database (pg_stat_statements)") }
    end

    def render(input, format, color: false)
      format = "text_color" if format.to_s == "text" && color
      Native.report(JSON.generate(input), format.to_s)
    end

    def index_suggestions(connection, workload)
      Indexes.analyze(connection: connection, workload: workload, usage: false).map do |s|
        s.to_h.merge(queries: Array(s.queries).map { |q| q.is_a?(Hash) ? (q["fingerprint"] || q[:fingerprint]) : q })
      end
    end

    def app_name
      return "this app" unless defined?(Rails) && Rails.respond_to?(:application) && Rails.application

      Rails.application.class.module_parent_name.to_s.gsub(/([a-z])([A-Z])/, '\1 \2')
    end
  end
end
