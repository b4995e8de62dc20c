# frozen_string_literal: true

require "json"
require "logger"

module VirtualTrainerOptimizer
  # Delivers a finished unit of work's findings: logger, callback,
  # ActiveSupport::Notifications events, the JSON-lines file, then (for the
  # kinds in raise_on) an exception. A failing notifier never reaches the app;
  # only the configured raise does.
  module Notifier
    EVENT_SUFFIX = ".virtual_trainer_optimizer"
    JSONL_VERSION = 1

    @file_lock = Mutex.new
    @file = nil
    @file_pid = nil
    @file_path = nil

    class << self
      # `raise_on` overrides config.raise_on for this unit of work.
      def deliver(result, raising:, raise_on: nil)
        config = VirtualTrainerOptimizer.config
        findings = result.findings
        findings.each do |finding|
          safely { log(config, finding) }
          safely { config.on_finding&.call(finding) }
          safely { instrument(finding) } if config.instrument
        end
        safely { write_jsonl(config, result) } if config.jsonl_path
        raise_for(raise_on.nil? ? config.raise_on : raise_on, findings) if raising
      end

      # Closes the JSON-lines file (it reopens on the next write).
      def close
        @file_lock.synchronize do
          @file&.close
          @file = nil
        end
      end

      private

      def safely
        yield
      rescue StandardError => e
        VirtualTrainerOptimizer.internal_error(e)
      end

      def log(config, finding)
        logger = config.logger
        return if logger == false

        logger ||= VirtualTrainerOptimizer.default_logger
        logger.warn("[virtual_trainer_optimizer] #{finding.message}")
      end

      def instrument(finding)
        return unless defined?(ActiveSupport::Notifications)

        ActiveSupport::Notifications.instrument("#{finding.kind}#{EVENT_SUFFIX}", finding: finding)
      end

      def write_jsonl(config, result)
        lines = result.findings.map { |f| JSON.generate({ v: JSONL_VERSION, type: "finding", pid: Process.pid }.merge(f.to_h)) }
        if result.kind != :scan
          lines << JSON.generate(
            v: JSONL_VERSION, type: "unit", pid: Process.pid, kind: result.kind, name: result.name,
            queries: result.queries, db_ms: result.db_ms.round(3), elapsed_ms: result.elapsed_ms.round(3),
            view_ms: result.view_ms&.round(3),
            fingerprints: result.totals.first(50).map { |fp, count, ms, sql| { fingerprint: fp, count: count, total_ms: ms.round(3), sql: sql } }
          )
        end
        return if lines.empty?

        path = File.expand_path(config.jsonl_path.to_s, config.app_root_path)
        @file_lock.synchronize do
          reopen(path) if @file.nil? || @file_pid != Process.pid || @file_path != path
          @file.write(lines.join("\n") << "\n")
        end
      end

      def reopen(path)
        @file&.close unless @file_pid != Process.pid # a forked child's copy stays open for the parent
        require "fileutils"
        FileUtils.mkdir_p(File.dirname(path))
        @file = File.open(path, "a")
        @file.sync = true
        @file_pid = Process.pid
        @file_path = path
      end

      ERRORS = {
        n_plus_one: :NPlusOneError, bulk_write: :BulkWriteError, slow_query: :SlowQueryError,
        duplicate_query: :DuplicateQueryError, slow_request: :SlowRequestError, slow_job: :SlowRequestError,
        slow_scan: :SlowRequestError
      }.freeze

      def raise_for(kinds, findings)
        raised = findings.select { |f| kinds == :all || Array(kinds).include?(f.kind) }
        return if raised.empty?

        error = VirtualTrainerOptimizer.const_get(ERRORS.fetch(raised.first.kind))
        raise error.new(raised)
      end
    end
  end
end
