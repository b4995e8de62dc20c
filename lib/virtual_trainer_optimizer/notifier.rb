# frozen_string_literal: true

require "logger"

module VirtualTrainerOptimizer
  # Delivers a finished unit of work's findings: logger, callback,
  # ActiveSupport::Notifications events, the JSON-lines and Redis sinks, then
  # (for the kinds in raise_on) an exception. A failing notifier never reaches
  # the app; only the configured raise does.
  module Notifier
    EVENT_SUFFIX = ".virtual_trainer_optimizer"

    class << self
      # `raise_on` overrides config.raise_on for this unit of work; `nested`
      # findings (of units inside it, delivered already) count for the raise.
      def deliver(result, raising:, raise_on: nil, nested: nil)
        config = VirtualTrainerOptimizer.config
        findings = result.findings
        findings.each do |finding|
          safely { log(finding) }
          safely { config.on_finding&.call(finding) }
          safely { instrument(finding) } if config.instrument
        end
        safely { CiSummary.record(findings) } if CiSummary.active?
        safely { JsonlSink.record(result, File.expand_path(config.jsonl_path.to_s, config.app_root_path)) } if config.jsonl_path
        safely { RedisSink.record(result) } if config.redis_url
        raise_for(raise_on.nil? ? config.raise_on : raise_on, nested ? findings + nested : findings) if raising
      end

      private

      def safely
        yield
      rescue StandardError => e
        VirtualTrainerOptimizer.internal_error(e)
      end

      def log(finding)
        VirtualTrainerOptimizer.logger&.warn("[virtual_trainer_optimizer] #{finding.message}")
      end

      def instrument(finding)
        return unless defined?(ActiveSupport::Notifications)

        name = "#{finding.kind}#{EVENT_SUFFIX}"
        # No listener, no event: instrumenting would still walk the notifier.
        return unless ActiveSupport::Notifications.notifier.listening?(name)

        ActiveSupport::Notifications.instrument(name, finding: finding)
      end

      ERRORS = {
        n_plus_one: :NPlusOneError, bulk_write: :BulkWriteError, slow_query: :SlowQueryError,
        duplicate_query: :DuplicateQueryError, slow_request: :SlowRequestError, slow_job: :SlowRequestError,
        slow_scan: :SlowRequestError
      }.merge(Finding::EXTERNAL_KINDS.to_h { |kind| [kind, :ExternalCallError] }).freeze

      def raise_for(kinds, findings)
        raised = findings.select { |f| kinds == :all || Array(kinds).include?(f.kind) }
        return if raised.empty?

        error = VirtualTrainerOptimizer.const_get(ERRORS.fetch(raised.first.kind))
        raise error.new(raised)
      end
    end
  end
end
