# frozen_string_literal: true

# Runs the retention policies of a YAML file (ARGV[0]) with `now` = ARGV[1]
# in a process of its own, against the spec app's database as the parent left
# it, printing a line after each committed batch: retention_run_spec kills it
# with SIGKILL in the middle of a run.
require_relative "../config/application"
Rails.application.initialize!
require "virtual_trainer_optimizer/retention"

$stdout.sync = true
retention = VirtualTrainerOptimizer::Retention
retention.load_file(ARGV.fetch(0))
summary = retention.run(connection: ActiveRecord::Base.connection, dry_run: false, pause: 0,
                        now: Time.iso8601(ARGV.fetch(1)), progress: ->(t) { puts "batch #{t.table} #{t.processed}" })
puts "done #{summary.status}"
