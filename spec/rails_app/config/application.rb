# frozen_string_literal: true

# A small Rails app modelled on Virtual Trainer, used by spec/rails. It boots
# against SQLite (a file under tmp/), PostgreSQL or MariaDB/MySQL, picked by VTO_DB.
ENV["RAILS_ENV"] ||= "test"

# The gem from this checkout, as a Gemfile `path:` entry would load it.
$LOAD_PATH.unshift(File.expand_path("../../../lib", __dir__))
require "logger"
require "fileutils"
require "rails"
require "active_record/railtie"
require "action_controller/railtie"
require "active_job/railtie"
require "sidekiq"
require "virtual_trainer_optimizer/railtie" # the gem may be loaded before Rails (here by spec_helper)

module VirtualTrainer
  DB = ENV.fetch("VTO_DB", "sqlite")
  TMP = File.expand_path("../../../tmp/rails_app", __dir__)
  FileUtils.mkdir_p(TMP)

  def self.database_url
    case DB
    when "sqlite" then "sqlite3:#{ENV.fetch('VTO_SQLITE_PATH', File.join(TMP, 'test.sqlite3'))}?pool=10&timeout=5000"
    when "postgresql"
      ENV.fetch("VTO_PG_URL", "postgresql://postgres@127.0.0.1:5432/vto_rails_test") + "?pool=10"
    when "mysql"
      ENV.fetch("VTO_MYSQL_URL", "mysql2://root@127.0.0.1:3306/vto_rails_test") + "?pool=10"
    else raise ArgumentError, "VTO_DB must be sqlite, postgresql or mysql, got #{DB.inspect}"
    end
  end

  class Application < Rails::Application
    config.root = File.expand_path("..", __dir__)
    config.eager_load = false
    config.secret_key_base = "0" * 64
    config.logger = Logger.new(File.join(TMP, "rails.log"))
    config.log_level = :warn
    config.active_job.queue_adapter = :inline
    config.active_support.deprecation = :silence
    config.hosts.clear if config.respond_to?(:hosts)
    config.paths["log"] = File.join(TMP, "test.log")

    config.virtual_trainer_optimizer.jsonl_path = ENV.fetch("VTO_JSONL", File.join(TMP, "findings.jsonl"))
  end
end

ENV["DATABASE_URL"] = VirtualTrainer.database_url
