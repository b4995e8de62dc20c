# frozen_string_literal: true

require "json"
require "logger"
require "open3"
require "rbconfig"
require "securerandom"
require "stringio"
require "tmpdir"
require "fileutils"
# The report first: its Redis source lives inside it.
require "virtual_trainer_optimizer/report"
require "virtual_trainer_optimizer/report/redis_workload"

# The Redis workload against a real Redis (bin/test starts one): separate
# processes add to the same keys, the report reads their sums.
RSpec.describe VirtualTrainerOptimizer::Report::RedisWorkload do
  url = ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")
  root = File.expand_path("../..", __dir__)
  sink = VirtualTrainerOptimizer::RedisSink
  fake_finding = Struct.new(:kind, :fingerprint, :location, :count, :total_ms, :max_ms, :sql, :suggestion,
                            :priority, :scope_kind, :scope_name, :table, :column, keyword_init: true)

  before(:all) do
    require "redis"
    Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
  end

  let(:namespace) { "vto-spec-#{Process.pid}-#{SecureRandom.hex(4)}" }

  # Nothing of an example's Redis batch is left for the next.
  def with_config(**options, &block)
    super
  ensure
    VirtualTrainerOptimizer::RedisSink.flush
  end

  def result(name, findings: [], totals: [])
    VirtualTrainerOptimizer::Result.new(kind: :request, name: name, findings: findings,
                                        queries: totals.sum { |_, count| count }, db_ms: 1.0, elapsed_ms: 5.0,
                                        view_ms: nil, totals: totals, detail: "GET")
  end

  describe "against Redis" do
    before(:all) do
      @redis = Redis.new(url: url, connect_timeout: 1)
      begin
        @redis.ping
      rescue Redis::BaseConnectionError => e
        @unreachable = e.message
      end
    end

    before do
      raise "Redis is not reachable at #{url} (bin/setup --services starts one): #{@unreachable}" if @unreachable
    end

    after do
      described_class.new(redis: @redis, namespace: namespace).clear! unless @unreachable
      FileUtils.remove_entry(@tmp) if @tmp
    end

    def keys_of(namespace)
      @redis.scan_each(match: "#{namespace}:*").to_a
    end

    it "sums the units, fingerprints and findings of separate processes, with the window, TTLs and bounds" do
      jsonl = File.join(@tmp = Dir.mktmpdir("vto-redis-spec"), "workload.jsonl")
      # Two app processes at once, the second starting its units later; each
      # also names 300 units of its own: 601 in all, over the 500 kept.
      runs = { "a" => [2, 0], "b" => [3, 0.5] }.map do |worker, (requests, delay)|
        Thread.new do
          env = { "REDIS_URL" => url, "VTO_REDIS_NAMESPACE" => namespace, "VTO_REQUESTS" => requests.to_s,
                  "VTO_DELAY" => delay.to_s, "VTO_BULK_UNITS" => "300", "VTO_WORKER" => worker, "VTO_JSONL" => jsonl }
          out, err, status = Open3.capture3(env, RbConfig.ruby, "-Ilib", "spec/fixtures/redis_worker.rb", chdir: root)
          raise "worker #{worker} failed:\n#{out}#{err}" unless status.success?

          JSON.parse(out.lines.last)
        end
      end.map(&:value)
      expect(runs.map { |r| r["internal_errors"] }).to eq([0, 0])

      workload = described_class.new(redis_url: url, namespace: namespace)
      data = workload.workload("sqlite")
      expect(data[:source]).to eq("redis")
      request = data[:units].find { |u| u[:name] == "Api::UsersController#index" }
      expect(request).to include(kind: "request", count: 5, queries: 5 * 4, method: "GET", queue: nil)
      expect(request[:max_elapsed_ms]).to be > 0
      expect(request[:elapsed_ms]).to be >= request[:max_elapsed_ms]

      loop_fp = data[:fingerprints].find { |f| f[:tables] == ["workouts"] }
      fixture = File.readlines(File.join(root, "spec/fixtures/redis_worker.rb"))
      site = "spec/fixtures/redis_worker.rb:#{fixture.index { |l| l.include?('marker:n-plus-one') } + 1}"
      expect(loop_fp).to include(calls: 15, statement: "select", call_sites: [site])
      expect(loop_fp[:units]).to eq([{ kind: "request", name: "Api::UsersController#index", calls: 15,
                                       total_ms: loop_fp[:total_ms] }])
      expect(data[:fingerprints].find { |f| f[:tables] == ["users"] }).to include(calls: 5, call_sites: [])

      expect(workload.findings.size).to eq(1)
      expect(workload.findings.first).to include(kind: "n_plus_one", count: 3, occurrences: 5, location: site,
                                                 scope_kind: "request", scope_name: "Api::UsersController#index",
                                                 fingerprint: loop_fp[:fingerprint], priority: a_kind_of(String))

      # The same numbers, in the same shapes, as the JSON-lines file both processes wrote.
      lines = VirtualTrainerOptimizer::Report::JsonlWorkload.new(jsonl)
      from_lines = lines.workload("sqlite")
      line_unit = from_lines[:units].find { |u| u[:name] == request[:name] }
      expect(request.keys).to eq(line_unit.keys)
      expect(request.slice(:count, :queries, :method)).to eq(line_unit.slice(:count, :queries, :method))
      line_fps = from_lines[:fingerprints].to_h { |f| [f[:fingerprint], f] }
      data[:fingerprints].each do |f|
        expect(f.keys.sort).to eq(line_fps[f[:fingerprint]].keys.sort)
        expect(f.slice(:calls, :sql, :statement, :tables, :call_sites))
          .to eq(line_fps[f[:fingerprint]].slice(:calls, :sql, :statement, :tables, :call_sites))
      end
      expect(workload.findings.map(&:keys)).to eq(lines.findings.map(&:keys))
      expect(workload.findings.map { |f| f.slice(:occurrences, :count, :location) })
        .to eq(lines.findings.map { |f| f.slice(:occurrences, :count, :location) })

      # The window covers both processes: from the first one's first unit to
      # the last one's last write.
      from, to = @redis.hmget("#{namespace}:meta", "from", "to").map(&:to_f)
      expect(from).to be <= runs.map { |r| r["first_done"] }.min
      expect(to).to be >= runs.map { |r| r["last_done"] }.max
      expect(data[:window_seconds]).to eq((to - from).round(3))

      # Bounded across processes: 500 units; 506 keys (the units, findings,
      # sql and meta keys, a hash per unit, the request's fingerprint set and
      # the finding's hash); every key expiring.
      keys = keys_of(namespace)
      expect(@redis.scard("#{namespace}:units")).to eq(sink::MAX_UNITS)
      expect(data[:units].size).to eq(sink::MAX_UNITS)
      expect(keys.size).to eq(sink::MAX_UNITS + 6)
      expect(keys.map { |k| @redis.ttl(k) }).to all(be_between(1, 3600))

      # clear! removes the namespace's keys and nothing else.
      @redis.set("#{namespace}x:keep", "1")
      expect(workload.clear!).to eq(keys.size)
      expect(keys_of(namespace)).to be_empty
      expect(@redis.get("#{namespace}x:keep")).to eq("1")
      @redis.del("#{namespace}x:keep")
    end

    it "keeps findings and each unit's fingerprints within their bounds across flushes, counting the kept ones" do
      stub_const("#{sink}::MAX_FINDINGS", 3)
      stub_const("#{sink}::MAX_FINGERPRINTS", 2)
      finding = lambda do |n|
        fake_finding.new(kind: :n_plus_one, fingerprint: "fp#{n}", location: "app/x.rb:#{n}", count: n, total_ms: 1.5,
                         max_ms: 0.5, sql: "SELECT * FROM t#{n} WHERE id = ?", priority: :high, scope_kind: :request,
                         scope_name: "X#index")
      end
      totals = ->(*ns) { ns.map { |n| ["fp#{n}", 1, n.to_f, "SELECT * FROM t#{n} WHERE id = ?"] } }
      with_config(redis_url: url, redis_namespace: namespace, logger: false) do
        errors = VirtualTrainerOptimizer.internal_errors
        sink.record(result("X#index", findings: [finding[1], finding[2]], totals: totals[1, 2, 3]))
        sink.flush
        sink.record(result("X#index", findings: [finding[1], finding[3], finding[4], finding[5]], totals: totals[4, 1]))
        sink.flush
        expect(VirtualTrainerOptimizer.internal_errors).to eq(errors)
      end

      workload = described_class.new(redis_url: url, namespace: namespace)
      expect(workload.findings.map { |f| [f[:location], f[:occurrences], f[:count]] })
        .to contain_exactly(["app/x.rb:1", 2, 1], ["app/x.rb:2", 1, 2], ["app/x.rb:3", 1, 3])
      # The first flush kept the two costliest shapes (fp3, fp2); fp4 found no room.
      fps = workload.workload("sqlite")[:fingerprints]
      expect(fps.map { |f| [f[:fingerprint], f[:calls]] }).to contain_exactly(["fp3", 1], ["fp2", 1])
      expect(workload.workload("sqlite")[:units].map { |u| u.slice(:name, :count, :method) })
        .to eq([{ name: "X#index", count: 2, method: "GET" }])
    end

    it "keeps each request's and job's own outbound calls, newest first within its bound, as the JSON lines do" do
      stub_const("VirtualTrainerOptimizer::External::Workload::MAX_SCOPES", 3)
      jsonl = File.join(@tmp = Dir.mktmpdir("vto-redis-spec"), "workload.jsonl")
      call = lambda do |n, scope|
        VirtualTrainerOptimizer::ExternalCall.new(
          host: "api.openai.com", method: "POST", path: "/v1/chat/completions", status: 200, duration_ms: 100.0 * n,
          prompt_tokens: 850, completion_tokens: 400, total_tokens: 1250, cost_usd: 0.0003675, model: "gpt-4o-mini",
          prompt_fingerprint: "ab12cd34ef56ab78", location: "app/jobs/program_job.rb:9", retries: 0, timeout_s: 60.0,
          scope_kind: scope[0], scope_name: scope[1]
        )
      end
      runs = (1..5).map do |n|
        job = [:job, "ProgramJob#{n}"]
        # The last call belongs to a unit nested in this one: it stays with that unit.
        VirtualTrainerOptimizer::Result.new(kind: :job, name: job[1], findings: [], queries: 0, db_ms: 0.0,
                                            elapsed_ms: 1000.0 * n, view_ms: nil, totals: [], detail: "default",
                                            external_calls: [call[n, job], call[n, job], call[n, [:job, "Inner"]]])
      end
      scan = VirtualTrainerOptimizer::Result.new(kind: :scan, name: "s", findings: [], queries: 0, db_ms: 0.0,
                                                 elapsed_ms: 1.0, view_ms: nil, totals: [],
                                                 external_calls: [call[1, [:scan, "s"]]])
      with_config(redis_url: url, redis_namespace: namespace, jsonl_path: jsonl, logger: false) do
        [*runs, scan].each do |result|
          sink.record(result)
          VirtualTrainerOptimizer::JsonlSink.record(result, jsonl)
        end
        sink.flush
        VirtualTrainerOptimizer::JsonlSink.flush
      end

      scopes = described_class.new(redis_url: url, namespace: namespace).external_scopes
      expect(scopes.map { |s| [s[:kind], s[:name], s[:elapsed_ms], s[:calls].size] })
        .to eq([["job", "ProgramJob3", 3000.0, 2], ["job", "ProgramJob4", 4000.0, 2], ["job", "ProgramJob5", 5000.0, 2]])
      expect(scopes.first[:calls].first).to eq(
        "host" => "api.openai.com", "method" => "POST", "path" => "/v1/chat/completions", "status" => 200,
        "duration_ms" => 300.0, "retries" => 0, "timeout_s" => 60.0, "model" => "gpt-4o-mini", "prompt_tokens" => 850,
        "completion_tokens" => 400, "total_tokens" => 1250, "prompt_fingerprint" => "ab12cd34ef56ab78",
        "location" => "app/jobs/program_job.rb:9", "request_bytes" => nil, "response_bytes" => nil, "error" => nil
      )
      expect(@redis.llen("#{namespace}:external")).to eq(3)
      expect(@redis.ttl("#{namespace}:external")).to be_between(1, 604_800) # config.redis_ttl, 7 days
      expect(VirtualTrainerOptimizer::Report::JsonlWorkload.new(jsonl).external_scopes).to eq(scopes)
    end

    it "leaves the parent's pending batch to the parent in a forked child" do
      with_config(redis_url: url, redis_namespace: namespace, logger: false) do
        sink.record(result("Parent#index"))
        sink.flush # a connection open at the fork, which the child must not share
        sink.record(result("Parent#index")) # pending at the fork: the parent's to write
        pid = fork do
          sink.record(result("Child#index"))
          sink.flush
          exit!(0)
        end
        Process.wait(pid)
        sink.flush
      end
      units = described_class.new(redis_url: url, namespace: namespace).workload("sqlite")[:units]
      expect(units.map { |u| [u[:name], u[:count]] }).to eq([["Child#index", 1], ["Parent#index", 2]])
    end
  end

  it "never lets a Redis outage reach the app: the batch is dropped and the error logged once" do
    log = StringIO.new
    bad = "redis://127.0.0.1:1/0"
    with_config(redis_url: bad, redis_namespace: namespace, logger: Logger.new(log)) do
      errors = VirtualTrainerOptimizer.internal_errors
      2.times do
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        expect { VirtualTrainerOptimizer::Notifier.deliver(result("Down#index"), raising: true) }.not_to raise_error
        # The app path only touches memory: no connection attempt there.
        expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 0.05
        expect(sink.flush).to be_nil
      end
      expect(VirtualTrainerOptimizer.internal_errors).to be > errors
      expect(log.string.scan("internal error").size).to eq(1)
      expect(log.string).to include("Redis::CannotConnectError")
      expect(log.string).not_to include(bad)
    end
  end
end
