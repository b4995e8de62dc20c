# frozen_string_literal: true

require_relative "rails_helper"
require "securerandom"
require "timeout"

# A real Sidekiq process (Debian's sidekiq 6.4) against the Redis on
# 127.0.0.1:6379 runs the jobs; its findings arrive in its JSON-lines file.
RSpec.describe "Jobs run by a real Sidekiq process (#{VirtualTrainer::DB})" do
  queue = "vto-spec-#{SecureRandom.hex(4)}"
  jsonl = File.join(VirtualTrainer::TMP, "sidekiq-#{queue}.jsonl")

  before(:all) do
    Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
    redis = Redis.new(url: ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0"))
    begin
      redis.ping
    rescue Redis::BaseConnectionError => e
      raise "Redis is not reachable on 127.0.0.1:6379 (bin/setup --services starts one): #{e.message}"
    end
    env = { "VTO_JSONL" => jsonl, "VTO_SIDEKIQ_QUEUE" => queue, "VTO_DB" => VirtualTrainer::DB,
            "DATABASE_URL" => ENV["DATABASE_URL"], "RAILS_ENV" => "test" }
    @log = File.join(VirtualTrainer::TMP, "sidekiq-#{queue}.log")
    log = @log
    @pid = Process.spawn(env, "sidekiq", "-r", Rails.root.join("config/sidekiq_boot.rb").to_s, "-q", queue,
                         "-c", "2", "-t", "5", out: log, err: log)
    ENV["VTO_SIDEKIQ_QUEUE"] = queue
    @adapter = CustomHealthProgramJob.queue_adapter
    CustomHealthProgramJob.queue_adapter = :sidekiq
  end

  after(:all) do
    CustomHealthProgramJob.queue_adapter = @adapter
    ENV.delete("VTO_SIDEKIQ_QUEUE")
    if @pid
      Process.kill("TERM", @pid)
      Timeout.timeout(20) { Process.wait(@pid) }
    end
    FileUtils.rm_f(jsonl)
    redis = Redis.new(url: ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0"))
    redis.del("queue:#{queue}")
    redis.srem("queues", queue)
  end

  def lines_for(name, jsonl, wait: 60)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + wait
    loop do
      if Process.waitpid(@pid, Process::WNOHANG)
        @pid = nil
        raise "sidekiq exited early:\n#{File.read(@log).lines.last(20).join}"
      end
      lines = File.exist?(jsonl) ? File.readlines(jsonl).map { |l| JSON.parse(l) } : []
      mine = lines.select { |l| l["scope_name"] == name || l["name"] == name }
      return mine if mine.any? { |l| l["type"] == "unit" }
      raise "no unit of work named #{name} in #{jsonl} after #{wait} s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.2
    end
  end

  it "reports the N+1 of a plain Sidekiq worker, scoped by the server middleware" do
    team = Team.order(:id).first
    TeamStatsWorker.set(queue: queue).perform_async(team.id)
    lines = lines_for("TeamStatsWorker", jsonl)
    finding = lines.find { |l| l["type"] == "finding" }
    expect(finding).to include("kind" => "n_plus_one", "scope_kind" => "job", "location" => marker("worker"),
                               "count" => team.users.count)
    expect(finding["sql"]).to match(/SUM\(/i)
    expect(finding["suggestion"]).to include("group(:user_id).sum")
    expect(lines.count { |l| l["type"] == "unit" }).to eq(1)
  end

  it "scopes an ActiveJob job once (not again as a Sidekiq job)" do
    user = User.order(:id).first
    CustomHealthProgramJob.perform_later(user.id)
    lines = lines_for("CustomHealthProgramJob", jsonl)
    expect(lines.select { |l| l["type"] == "finding" }.map { |l| [l["kind"], l["location"]] })
      .to eq([["n_plus_one", marker("job")]])
    expect(lines.count { |l| l["type"] == "unit" }).to eq(1)
    all = File.readlines(jsonl).map { |l| JSON.parse(l) }
    expect(all.none? { |l| l["name"].to_s.include?("JobWrapper") }).to be(true)
  end
end
