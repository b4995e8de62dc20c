# frozen_string_literal: true

require "active_job"
require_relative "retention"

module VirtualTrainerOptimizer
  # Runs the retention plan from a scheduler (sidekiq-cron, Heroku Scheduler
  # through `rake vto:retention:run`, a recurring job):
  #
  #   VirtualTrainerOptimizer::RetentionJob.perform_later(dry_run: false, max_runtime: 600)
  #
  # A dry run unless `dry_run: false`, like Retention.run, whose options it
  # takes (numbers and table names: job arguments are serialized). A run that
  # finds another one holding the lock returns; a failed one raises
  # Retention::RunFailed so the queue's retry and error reporting see it.
  class RetentionJob < ActiveJob::Base
    queue_as :default

    OPTIONS = %i[tables max_rows max_runtime pause statement_timeout lock_timeout].freeze

    def perform(dry_run: true, **options)
      unknown = options.keys - OPTIONS
      raise ArgumentError, "RetentionJob: unknown option#{'s' if unknown.size > 1} #{unknown.join(', ')}" if unknown.any?

      Retention.load_default_policies
      summary = ActiveRecord::Base.connection_pool.with_connection do |connection|
        Retention.run(connection: connection, dry_run: dry_run, **options)
      end
      logger&.info("[virtual_trainer_optimizer] #{summary}")
      raise Retention::RunFailed, summary.to_s if summary.status == :failed

      summary.to_h
    end
  end
end
