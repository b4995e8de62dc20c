# frozen_string_literal: true

require_relative "rails_helper"
require "securerandom"
require "virtual_trainer_optimizer/report"

# The report from each workload source on the spec app: the detector's
# JSON-lines file, Redis (every process's aggregate) and, on PostgreSQL,
# pg_stat_statements.
RSpec.describe "Report (#{VirtualTrainer::DB})" do
  report = VirtualTrainerOptimizer::Report

  def app
    Rails.application
  end

  def drive
    3.times { get "/api/users" }
    2.times { get "/api/teams/nested" }
    expect(last_response.status).to eq(200)
  end

  it "builds from the JSON-lines workload, through rake vto:report" do
    drive
    ActiveRecord::Base.connection.execute("ANALYZE") # row counts: pg_class, or SQLite's sqlite_stat1
    out = run_rake("vto:report", { "FORMAT" => "json" })
    json = JSON.parse(out)
    expect(json["assessment"]["workload"]["source"]).to eq("jsonl")
    schema = json["assessment"]["schema"]
    counts = ActiveRecord::Base.connection.tables.to_h { |t| [t, ActiveRecord::Base.connection.select_value("SELECT COUNT(*) FROM #{t}").to_i] }
    # After ANALYZE of tables this small, the estimates are the counts.
    expect(schema["largest"]).not_to be_empty
    schema["largest"].each { |t| expect(t["rows"]).to eq(counts.fetch(t["name"])), t["name"] }
    names = json["assessment"]["endpoints"].map { |e| e["name"] }
    expect(names).to include("Api::UsersController#index", "Api::TeamsController#nested")
    expect(json["recommendations"].map { |r| r["category"] }).to include("n_plus_one")
    expect(json["roadmap"].size).to eq(json["recommendations"].size + json["infrastructure"]["recommendations"].size +
                                       json["governance"]["recommendations"].size)

    text = run_rake("vto:report", { "FORMAT" => "markdown" })
    expect(text).to start_with("# Performance report for ")
    expect { report.generate(connection: ActiveRecord::Base.connection, format: "pdf") }
      .to raise_error(ArgumentError, /format must be one of text, markdown, json, html/)
    expect { report.generate(connection: ActiveRecord::Base.connection, source: :logs) }
      .to raise_error(ArgumentError, /source must be one of :jsonl, :redis, :pg_stat_statements/)
  end

  it "builds from Redis, where every process adds its units" do
    namespace = "vto-report-#{SecureRandom.hex(4)}"
    url = ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")
    with_config(redis_url: url, redis_namespace: namespace) do
      drive
      json = JSON.parse(report.generate(connection: ActiveRecord::Base.connection, source: :redis, format: "json"))
      expect(json["assessment"]["workload"]).to include("source" => "redis", "requests" => 5)
      users = json["assessment"]["endpoints"].find { |e| e["name"] == "Api::UsersController#index" }
      expect(users).to include("count" => 3, "method" => "GET")
      expect(json["assessment"]["n_plus_ones"]).not_to be_empty
    ensure
      VirtualTrainerOptimizer::Report::RedisWorkload.new(redis_url: url, namespace: namespace).clear!
    end
  end

  if VirtualTrainer::DB == "postgresql"
    it "builds from pg_stat_statements, the database's own totals" do
      connection = ActiveRecord::Base.connection
      connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
      oid = connection.select_value("SELECT oid FROM pg_database WHERE datname = current_database()")
      connection.execute("SELECT pg_stat_statements_reset(0, #{Integer(oid)}, 0)")
      drive
      json = JSON.parse(report.generate(connection: connection, source: :pg_stat_statements, format: "json"))
      workload = json["assessment"]["workload"]
      expect(workload).to include("source" => "pg_stat_statements", "requests" => 0)
      sql = json["assessment"]["top_fingerprints"].map { |f| f["sql"] }
      expect(sql).to include(a_string_including('FROM "users"'))
    end
  end
end
