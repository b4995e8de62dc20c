# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Every option with its default and a one-line explanation. The install
  # generator writes its initializer from this list, so the two never drift.
  class Configuration
    Option = Struct.new(:name, :default, :doc, keyword_init: true)

    OPTIONS = [
      Option.new(name: :enabled, default: true,
                 doc: "Watch queries at all (Rails: on in development and test, off elsewhere unless set)"),
      Option.new(name: :sample_rate, default: 1.0,
                 doc: "Share of requests and jobs watched, 0.0..1.0 (Rails production default: 0.1)"),
      Option.new(name: :n_plus_one_threshold, default: 2,
                 doc: "Same query shape from the same call site this often in one unit of work is an N+1"),
      Option.new(name: :duplicate_threshold, default: 2,
                 doc: "Identical SQL and values this often in one unit of work is a duplicate (cache candidate)"),
      Option.new(name: :slow_query_ms, default: 100,
                 doc: "A single query at least this slow is reported"),
      Option.new(name: :request_budget_ms, default: 200,
                 doc: "Budget of an API request (ActionController::API or JSON format)"),
      Option.new(name: :page_budget_ms, default: 1000,
                 doc: "Budget of any other request"),
      Option.new(name: :job_budget_ms, default: 10_000,
                 doc: "Budget of a job (ActiveJob or Sidekiq)"),
      Option.new(name: :budgets, default: {},
                 doc: "Budgets per \"Controller\", \"Controller#action\" or job class, in ms (nil: none)"),
      Option.new(name: :app_root, default: nil,
                 doc: "Directory whose files are the app's code (default: Rails.root, else the working directory)"),
      Option.new(name: :backtrace_cleaner, default: nil,
                 doc: "Frames it silences are not app code (Rails: Rails.backtrace_cleaner)"),
      Option.new(name: :allowlist, default: [],
                 doc: "Findings to ignore; add with c.allow(location:, fingerprint:, sql:)"),
      Option.new(name: :logger, default: nil,
                 doc: "Where findings are logged (Rails.logger in Rails, $stderr otherwise; false: nowhere)"),
      Option.new(name: :raise_on, default: [],
                 doc: "Finding kinds that raise at the end of their unit of work, e.g. [:n_plus_one] or :all"),
      Option.new(name: :on_finding, default: nil,
                 doc: "Callable given every finding, e.g. ->(finding) { Sentry.capture_message(finding.message) }"),
      Option.new(name: :instrument, default: true,
                 doc: "Publish ActiveSupport::Notifications events such as n_plus_one.virtual_trainer_optimizer"),
      Option.new(name: :jsonl_path, default: nil,
                 doc: "JSON-lines file of findings and units of work, read by the report " \
                      "(Rails: log/virtual_trainer_optimizer.jsonl; nil: none)"),
      Option.new(name: :redis_url, default: nil,
                 doc: "Redis (redis:// or rediss:// URL) that every process adds its units of work and findings " \
                      "to, so the report sees the whole fleet (nil: none)"),
      Option.new(name: :redis_namespace, default: "vto",
                 doc: "Prefix of the Redis keys (letters, digits, _ . -): one per app or environment"),
      Option.new(name: :redis_ttl, default: 604_800,
                 doc: "Seconds the Redis workload keys live after their last write (default: 7 days)"),
      Option.new(name: :capture_external_calls, default: true,
                 doc: "Record outbound HTTP calls (Net::HTTP, so Faraday's default adapter, and request.openai " \
                      "events) in watched units of work: host, path template, timings, tokens, cost; never " \
                      "bodies, headers or keys"),
      Option.new(name: :dialect, default: nil,
                 doc: "SQL dialect (:postgresql, :mysql, :sqlite); nil: from ActiveRecord's adapter"),
      Option.new(name: :suggest_indexes, default: true,
                 doc: "Look up the filter column's indexes to suggest a missing add_index"),
      Option.new(name: :max_keys, default: 1000,
                 doc: "Distinct query shapes and call sites tracked per unit of work (memory bound)"),
      Option.new(name: :max_slow_queries, default: 100,
                 doc: "Slow queries kept per unit of work"),
      Option.new(name: :explain_slow_queries, default: false,
                 doc: "PostgreSQL: add what the generic plan of a slow query shows (sequential scans of large " \
                      "tables, sorts spilling to disk, ...) to its fix (Rails: on in development)"),
      Option.new(name: :migration_review, default: false,
                 doc: "After db:migrate, warn about foreign keys left without an index and redundant indexes " \
                      "the migrations added (Rails: on in development)"),
      Option.new(name: :ci_summary, default: false,
                 doc: "Summary of the run's findings at the end of a test run: true, :ci (only when ENV[\"CI\"] " \
                      "is set) or false"),
      Option.new(name: :ci_summary_formats, default: %i[text],
                 doc: "Summary formats: :text (stdout), :github (Actions annotations, stdout), :json and :sarif " \
                      "(files in ci_summary_dir)"),
      Option.new(name: :ci_summary_dir, default: "tmp/virtual_trainer_optimizer",
                 doc: "Directory of the JSON and SARIF summaries (relative to the app root)"),
      Option.new(name: :ci_summary_top, default: 10,
                 doc: "Offenders listed in the text summary"),
    ].freeze
    CI_SUMMARY_FORMATS = %i[text github json sarif].freeze

    NAMES = OPTIONS.map(&:name).freeze
    EXTERNAL_KINDS = %i[external_call_in_request external_call_in_loop duplicate_external_call slow_external_call
                        external_errors external_timeout external_dominated_job].freeze
    KINDS = (%i[n_plus_one bulk_write slow_query duplicate_query slow_request slow_job slow_scan] +
             EXTERNAL_KINDS).freeze

    attr_reader(*NAMES)

    def initialize
      @explicit = {}
      OPTIONS.each { |option| instance_variable_set(:"@#{option.name}", copy(option.default)) }
    end

    OPTIONS.each do |option|
      define_method(:"#{option.name}=") do |value|
        value = validate(option.name, value)
        @explicit[option.name] = true
        instance_variable_set(:"@#{option.name}", value)
      end
    end

    # True once the option was assigned (framework defaults never override it).
    def explicit?(name)
      @explicit.key?(name)
    end

    # Sets a default unless the app set the option itself.
    def default(name, value)
      instance_variable_set(:"@#{name}", value) unless explicit?(name)
    end

    # Defaults that depend on the Rails app (options the app set stay): on in
    # development and test; elsewhere off, and sampled at 10% when turned on.
    def apply_rails_defaults(env:, root:, cleaner:)
      env = env.to_s
      default(:enabled, %w[development test].include?(env))
      default(:sample_rate, %w[development test].include?(env) ? 1.0 : 0.1)
      default(:app_root, root.to_s)
      default(:backtrace_cleaner, cleaner)
      default(:jsonl_path, "log/virtual_trainer_optimizer.jsonl")
      default(:migration_review, env == "development")
      default(:explain_slow_queries, env == "development")
      self
    end

    # Ignores findings that match every given criterion: location (String
    # prefix of the app path, or Regexp), fingerprint (String), sql (Regexp or
    # String contained in the normalized SQL), kind (Symbol).
    def allow(location: nil, fingerprint: nil, sql: nil, kind: nil)
      if [location, fingerprint, sql, kind].all?(&:nil?)
        raise ArgumentError, "allow needs at least one of location:, fingerprint:, sql:, kind:"
      end

      @allowlist = @allowlist + [{ location: location, fingerprint: fingerprint, sql: sql, kind: kind }.compact]
    end

    def app_root_path
      (app_root || Dir.pwd).to_s
    end

    # Budget in ms for a controller (and action) or job class; falls back to
    # `fallback`. An explicit nil in `budgets` means no budget.
    def budget_for(name, action = nil, fallback:)
      [action && "#{name}##{action}", name].compact.each do |key|
        return budgets[key] if budgets.key?(key)
      end
      fallback
    end

    def to_h
      NAMES.to_h { |name| [name, public_send(name)] }
    end

    private

    def redis_url?(value)
      require "uri"
      uri = URI.parse(value)
      REDIS_SCHEMES.include?(uri.scheme) && !uri.host.to_s.empty?
    rescue URI::InvalidURIError, TypeError
      false
    end

    def copy(value)
      value.is_a?(Hash) || value.is_a?(Array) ? value.dup : value
    end

    POSITIVE = %i[slow_query_ms request_budget_ms page_budget_ms job_budget_ms].freeze
    COUNTS = %i[n_plus_one_threshold duplicate_threshold max_keys max_slow_queries ci_summary_top redis_ttl].freeze
    REDIS_SCHEMES = %w[redis rediss].freeze

    def validate(name, value)
      case name
      when *COUNTS
        minimum = name.to_s.end_with?("threshold") ? 2 : 1
        return value if value.is_a?(Integer) && value >= minimum

        raise ArgumentError, "#{name} must be an Integer >= #{minimum}, got #{value.inspect}"
      when *POSITIVE
        return value if value.nil? || (value.is_a?(Numeric) && value.positive?)

        raise ArgumentError, "#{name} must be a positive number of milliseconds or nil, got #{value.inspect}"
      when :sample_rate
        return value.to_f if value.is_a?(Numeric) && value.between?(0, 1)

        raise ArgumentError, "sample_rate must be between 0.0 and 1.0, got #{value.inspect}"
      when :budgets
        return value if value.is_a?(Hash)

        raise ArgumentError, "budgets must be a Hash of name => milliseconds, got #{value.inspect}"
      when :raise_on
        kinds = value == :all ? [] : Array(value)
        unknown = kinds - KINDS
        return value if unknown.empty?

        raise ArgumentError, "raise_on: unknown kinds #{unknown.inspect} (known: #{KINDS.join(', ')}, or :all)"
      when :on_finding
        return value if value.nil? || value.respond_to?(:call)

        raise ArgumentError, "on_finding must respond to #call(finding)"
      when :dialect
        return value if value.nil?

        SQL.fingerprint("SELECT 1", dialect: value) # raises ArgumentError on unknown dialects
        value.to_sym
      when :capture_external_calls
        return value if [true, false].include?(value)

        raise ArgumentError, "capture_external_calls must be true or false, got #{value.inspect}"
      when :ci_summary
        return value if [true, false, :ci].include?(value)

        raise ArgumentError, "ci_summary must be true, false or :ci, got #{value.inspect}"
      when :ci_summary_formats
        formats = Array(value).map { |f| f.respond_to?(:to_sym) ? f.to_sym : f }
        unknown = formats - CI_SUMMARY_FORMATS
        return formats if unknown.empty? && !formats.empty?

        raise ArgumentError, "ci_summary_formats: unknown formats #{unknown.inspect} " \
                             "(known: #{CI_SUMMARY_FORMATS.join(', ')})"
      when :redis_url
        return value if value.nil? || redis_url?(value)

        # The URL is not echoed: it may hold a password.
        raise ArgumentError, "redis_url must be a redis:// or rediss:// URL with a host, or nil"
      when :redis_namespace
        RedisSink::Keys.new(value).namespace
      when :allowlist
        return value if value.is_a?(Array)

        raise ArgumentError, "allowlist must be an Array (use c.allow(...) to add entries)"
      else
        value
      end
    end
  end
end
