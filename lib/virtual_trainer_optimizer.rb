# frozen_string_literal: true

require_relative "virtual_trainer_optimizer/version"
require_relative "virtual_trainer_optimizer/errors"
require_relative "virtual_trainer_optimizer/native"
require_relative "virtual_trainer_optimizer/sql"
require_relative "virtual_trainer_optimizer/configuration"
require_relative "virtual_trainer_optimizer/call_site"
require_relative "virtual_trainer_optimizer/scope"
require_relative "virtual_trainer_optimizer/finding"
require_relative "virtual_trainer_optimizer/external"
require_relative "virtual_trainer_optimizer/external_call"
require_relative "virtual_trainer_optimizer/generic_plan"
require_relative "virtual_trainer_optimizer/fix_hint"
require_relative "virtual_trainer_optimizer/jsonl_sink"
require_relative "virtual_trainer_optimizer/redis_sink"
require_relative "virtual_trainer_optimizer/ci_summary"
require_relative "virtual_trainer_optimizer/notifier"
require_relative "virtual_trainer_optimizer/subscriber"
require_relative "virtual_trainer_optimizer/fork_safety"
require_relative "virtual_trainer_optimizer/integrations/rack"
require_relative "virtual_trainer_optimizer/integrations/action_controller"
require_relative "virtual_trainer_optimizer/integrations/active_job"
require_relative "virtual_trainer_optimizer/integrations/sidekiq"

# Finds N+1 queries, slow SQL, missing and redundant indexes, and data-retention
# gaps in Rails applications. See README.md.
module VirtualTrainerOptimizer
  ADAPTER_DIALECTS = { "postgresql" => :postgresql, "postgis" => :postgresql, "mysql2" => :mysql,
                       "trilogy" => :mysql, "mysql" => :mysql, "sqlite3" => :sqlite, "sqlite" => :sqlite }.freeze

  # Loaded on first use: an initializer's `Retention.define`, a scheduler's
  # job class name, the report.
  autoload :Retention, File.expand_path("virtual_trainer_optimizer/retention", __dir__)
  autoload :RetentionJob, File.expand_path("virtual_trainer_optimizer/retention_job", __dir__)
  autoload :Report, File.expand_path("virtual_trainer_optimizer/report", __dir__)
  autoload :CircuitBreaker, File.expand_path("virtual_trainer_optimizer/circuit_breaker", __dir__)
  autoload :Retry, File.expand_path("virtual_trainer_optimizer/retry", __dir__)

  @config = Configuration.new
  @pid = Process.pid
  @internal_errors = 0
  @logged_errors = {}
  @error_lock = Mutex.new

  class << self
    attr_reader :config

    # This process's id, kept current across fork (no getpid call per scope).
    attr_reader :pid

    # Yields the configuration, then (when enabled) installs the SQL
    # subscriber. In Rails, config.virtual_trainer_optimizer is the same object.
    def configure
      yield config
      CallSite.reset!(config)
      @call_sites_ready = true
      if config.enabled
        Subscriber.install!
        External.install! if config.capture_external_calls
      end
      CiSummary.install_at_exit if CiSummary.active?
      config
    end

    # Runs the block as a unit of work and returns its Result (`#findings`,
    # `#queries`, `#db_ms`, `#elapsed_ms`). Nested in a request or job, the
    # block's queries are its own; the outer unit keeps their totals. Raises
    # for the kinds in config.raise_on, or `raise_on:` given here.
    # `n_plus_one_threshold:` and `slow_query_ms:` override the configured
    # thresholds for this scan.
    def scan(name = "scan", budget_ms: nil, raise_on: nil, n_plus_one_threshold: nil, slow_query_ms: nil)
      raise ArgumentError, "scan needs a block" unless block_given?

      install!
      thresholds = { n_plus_one_threshold: n_plus_one_threshold, slow_query_ms: slow_query_ms }.compact
      _, result = Scope.run(:scan, name, budget_ms: budget_ms, always: true, raise_on: raise_on,
                                         thresholds: thresholds) { yield }
      result || Result.new(kind: :scan, name: name, findings: [], queries: 0, db_ms: 0.0, elapsed_ms: 0.0,
                           view_ms: nil, totals: [])
    end

    # Runs the block without recording its queries (in the current thread or
    # fiber), e.g. around a deliberate loop.
    def pause
      saved = Thread.current[Scope::NATIVE]
      Thread.current[Scope::NATIVE] = nil
      yield
    ensure
      Thread.current[Scope::NATIVE] = saved
    end

    # Installs the sql.active_record subscriber (once) and reads the app root.
    def install!
      CallSite.reset!(config) unless @call_sites_ready
      @call_sites_ready = true
      Subscriber.install!
      External.install! if config.capture_external_calls
    end

    # The SQL dialect of the app's database: config.dialect, else ActiveRecord's adapter.
    def dialect
      config.dialect || @adapter_dialect ||= adapter_dialect
    end

    # Internal errors rescued so far (the app never saw them).
    def internal_errors
      @internal_errors
    end

    # Counts an internal error and logs the first of each class once.
    def internal_error(error)
      first = @error_lock.synchronize do
        @internal_errors += 1
        !@logged_errors.key?(error.class) && (@logged_errors[error.class] = true)
      end
      return unless first

      logger&.error("[virtual_trainer_optimizer] internal error, ignored (the app is unaffected): " \
                    "#{error.class}: #{error.message} (#{error.backtrace&.first})")
    rescue StandardError
      nil
    end

    # Where findings and internal errors are logged: config.logger, else
    # Rails.logger or $stderr; nil when config.logger is false.
    def logger
      return nil if config.logger == false

      config.logger || (@default_logger ||= defined?(Rails) && Rails.respond_to?(:logger) && Rails.logger ||
                                           Logger.new($stderr))
    end

    # Called in a forked child: no unit of work is open there.
    def after_fork!
      @pid = Process.pid
      Scope.reset_current!
      JsonlSink.after_fork!
      RedisSink.after_fork!
      CiSummary.reset!
    end

    # Back to the defaults (tests).
    def reset!
      @config = Configuration.new
      @adapter_dialect = nil
      @call_sites_ready = false
      FixHint.clear_caches!
      External::Analysis.reset!
      CallSite.reset!(config)
    end

    private

    def adapter_dialect
      return :postgresql unless defined?(ActiveRecord::Base)

      adapter = if ActiveRecord::Base.respond_to?(:connection_db_config)
                  ActiveRecord::Base.connection_db_config&.adapter
                else
                  ActiveRecord::Base.connection_config[:adapter]
                end
      ADAPTER_DIALECTS.fetch(adapter.to_s, :postgresql)
    rescue StandardError
      :postgresql
    end
  end
end

require_relative "virtual_trainer_optimizer/railtie" if defined?(Rails::Railtie)
