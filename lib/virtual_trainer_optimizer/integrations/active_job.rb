# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Integrations
    # Every ActiveJob `perform` (inline, async, or through any queue adapter)
    # is a unit of work named after the job class.
    module ActiveJob
      def self.included(base)
        base.around_perform do |job, block|
          config = VirtualTrainerOptimizer.config
          name = job.class.name
          Scope.run(:job, name, budget_ms: config.budget_for(name, fallback: config.job_budget_ms)) do |scope|
            scope&.detail = job.queue_name
            block.call
          end
        end
      end
    end
  end
end
