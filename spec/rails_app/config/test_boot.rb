# frozen_string_literal: true

# Boots the Virtual Trainer spec app for a test process (RSpec's rails_helper,
# the Minitest run): a fresh database named by VTO_DB (sqlite, the default,
# postgresql or mysql), the schema and the seeds.
require_relative "application"

module RailsAppSetup
  module_function

  def prepare_database
    case VirtualTrainer::DB
    when "sqlite"
      FileUtils.rm_f(Dir["#{ENV['DATABASE_URL'][/\Asqlite3:([^?]+)/, 1]}*"])
    when "postgresql"
      require "pg"
      url = URI(ENV["DATABASE_URL"].split("?").first)
      name = url.path.delete_prefix("/")
      admin = PG.connect(host: url.host, port: url.port, user: url.user || "postgres", dbname: "postgres")
      admin.set_notice_processor { |_| nil }
      admin.exec("DROP DATABASE IF EXISTS #{admin.quote_ident(name)}")
      admin.exec("CREATE DATABASE #{admin.quote_ident(name)}")
      admin.close
    when "mysql"
      require "mysql2"
      url = URI(ENV["DATABASE_URL"].split("?").first)
      name = url.path.delete_prefix("/")
      admin = Mysql2::Client.new(host: url.host, port: url.port || 3306, username: url.user || "root",
                                 password: url.password.to_s)
      admin.query("DROP DATABASE IF EXISTS `#{admin.escape(name)}`")
      admin.query("CREATE DATABASE `#{admin.escape(name)}` CHARACTER SET utf8mb4")
      admin.close
    end
  end
end

RailsAppSetup.prepare_database
Rails.application.initialize!
ActiveRecord::Migration.verbose = false
load Rails.root.join("db/schema.rb")
load Rails.root.join("db/seeds.rb")
