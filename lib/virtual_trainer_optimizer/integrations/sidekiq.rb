# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Integrations
    # Sidekiq server middleware: each job a Sidekiq process runs is a unit of
    # work. ActiveJob jobs are left to the ActiveJob hook (one scope per job).
    class Sidekiq
      ACTIVE_JOB_WRAPPER = "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"

      def self.install!
        ::Sidekiq.configure_server do |config|
          config.server_middleware do |chain|
            chain.add(self) unless chain.exists?(self)
          end
        end
      end

      def call(_worker, job, queue)
        name = job["class"].to_s
        return yield if name == ACTIVE_JOB_WRAPPER || !VirtualTrainerOptimizer.config.enabled

        config = VirtualTrainerOptimizer.config
        Scope.run(:job, name, budget_ms: config.budget_for(name, fallback: config.job_budget_ms)) do |scope|
          scope&.detail = queue.to_s
          yield
        end
        nil
      end
    end
  end
end
