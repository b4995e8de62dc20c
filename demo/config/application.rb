# frozen_string_literal: true

# Virtual Trainer, the demo: a small Rails app with the mistakes real apps
# make (N+1 queries, COUNT in a loop, a missing foreign-key index, a redundant
# index, a log table nobody cleans, health data without an erasure path, a
# long AI job). bin/demo boots it on SQLite (or DATABASE_URL), drives its
# endpoints and jobs in-process and prints virtual_trainer_optimizer's report.
ENV["RAILS_ENV"] ||= "development"

$LOAD_PATH.unshift(File.expand_path("../../lib", __dir__))
require "logger"
require "fileutils"
require "rails"
require "active_record/railtie"
require "action_controller/railtie"
require "action_view/railtie"
require "active_job/railtie"
require "virtual_trainer_optimizer/railtie"

module VirtualTrainerDemo
  TMP = File.expand_path("../../tmp/demo", __dir__)
  FileUtils.mkdir_p(TMP)

  def self.database_url
    ENV["DATABASE_URL"].to_s.empty? ? "sqlite3:#{File.join(TMP, 'demo.sqlite3')}?pool=5&timeout=5000" : ENV["DATABASE_URL"]
  end

  class Application < Rails::Application
    config.root = File.expand_path("..", __dir__)
    config.eager_load = false
    config.secret_key_base = "demo" * 16
    config.logger = Logger.new(File.join(TMP, "demo.log"))
    config.log_level = :warn
    config.active_job.queue_adapter = :inline
    config.active_support.deprecation = :silence
    config.hosts.clear if config.respond_to?(:hosts)
    config.paths["log"] = File.join(TMP, "demo.log")

    config.virtual_trainer_optimizer.jsonl_path = File.join(TMP, "workload.jsonl")
    config.virtual_trainer_optimizer.enabled = true
    config.virtual_trainer_optimizer.sample_rate = 1.0
    config.virtual_trainer_optimizer.logger = false # the report says it all
  end
end

ENV["DATABASE_URL"] = VirtualTrainerDemo.database_url
