# frozen_string_literal: true

require "json"
require "logger"
require "open3"
require "rbconfig"
require "securerandom"
require "stringio"
require "active_support/notifications"

# The breaker's transitions, against this process's state and against a real
# Redis (bin/test starts one) shared by clients, threads and processes.
RSpec.describe VirtualTrainerOptimizer::CircuitBreaker do
  url = ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")
  root = File.expand_path("../..", __dir__)
  boom = Class.new(StandardError)

  let(:name) { "svc-#{SecureRandom.hex(4)}" }
  let(:namespace) { "vto-spec-#{Process.pid}-#{SecureRandom.hex(4)}" }
  let(:time) { [1_700_000_000.0] }
  let(:clock) { -> { time[0] } }
  let(:events) { [] }

  around do |example|
    sub = ActiveSupport::Notifications.subscribe(described_class::EVENT) do |*, payload|
      events << payload.slice(:from, :to) if payload[:name] == name
    end
    example.run
  ensure
    ActiveSupport::Notifications.unsubscribe(sub)
  end

  def advance(seconds)
    time[0] += seconds
  end

  def fail_once(breaker, error = Class.new(StandardError))
    breaker.call { raise error, "down" }
  rescue error
    nil
  end

  # The OpenError the block raised.
  def refusal
    yield
    raise "expected an OpenError"
  rescue described_class::OpenError => e
    e
  end

  def wait_until(what)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
    until yield
      raise "timed out waiting for #{what}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.005
    end
  end

  # Races `threads` calls through each breaker given; every block waits on a
  # gate until the others have been admitted or refused. Returns the blocks
  # that ran and the OpenErrors.
  def race(breakers, threads, expected_runs:, &body)
    gate = Queue.new
    ran = Queue.new
    refused = Queue.new
    workers = Array.new(threads) do |i|
      Thread.new do
        breakers[i % breakers.size].call do
          ran << i
          gate.pop
          body.call
        end
      rescue described_class::OpenError => e
        refused << e
      rescue StandardError
        nil # the body's failure
      end
    end
    wait_until("#{threads} admissions") { ran.size == expected_runs && ran.size + refused.size == threads }
    [ran.size, refused.size]
  ensure
    # Every thread done before the example's keys are deleted, even when it failed.
    threads.times { gate << :go }
    workers&.each { |t| t.join(5) }
  end

  shared_examples "a circuit breaker" do
    def breaker(**options)
      described_class.new(name, clock: clock, **store, **options)
    end

    it "opens after the threshold, refuses while open, probes after the cool-down, closes or reopens" do
      b = breaker(failure_threshold: 3, window: 60, cool_down: 30, failure_if: ->(r) { r == :too_many_requests })
      expect(b.call { :ok }).to eq(:ok)
      2.times { fail_once(b) }
      expect(b.state).to eq(:closed)
      # A flagged result counts, and is still returned.
      expect(b.call { :too_many_requests }).to eq(:too_many_requests)
      expect(b.state).to eq(:open)

      ran = false
      expect(refusal { b.call { ran = true } }.retry_after).to eq(30.0)
      advance(10)
      expect(refusal { b.call { ran = true } }.retry_after).to eq(20.0)
      expect(ran).to be(false)

      advance(20)
      expect(b.state).to eq(:half_open)
      fail_once(b) # the probe fails: open for another cool-down
      expect(b.state).to eq(:open)
      expect(refusal { b.call { ran = true } }.retry_after).to eq(30.0)

      advance(30)
      expect(b.call { :recovered }).to eq(:recovered)
      expect(b.state).to eq(:closed)
      2.times { fail_once(b) } # counting starts over
      expect(b.state).to eq(:closed)
      expect(events).to eq([{ from: :closed, to: :open }, { from: :open, to: :half_open },
                            { from: :half_open, to: :open }, { from: :open, to: :half_open },
                            { from: :half_open, to: :closed }])
    end

    it "counts only failures within the window, of the configured classes" do
      other = Class.new(StandardError)
      b = breaker(failure_threshold: 2, window: 60, on: [boom, other], ignore: [other])
      fail_once(b, boom)
      advance(66)
      fail_once(b, boom) # the first one left the window
      fail_once(b, other) # ignored
      expect { b.call { raise ArgumentError } }.to raise_error(ArgumentError) # not in on:
      expect(b.state).to eq(:closed)
      advance(30)
      fail_once(b, boom)
      expect(b.state).to eq(:open)
    end

    it "opens on a failure rate once enough calls were seen" do
      b = breaker(failure_rate: 0.5, minimum_calls: 4)
      3.times { b.call { :ok } }
      2.times { fail_once(b) } # 2 of 5
      expect(b.state).to eq(:closed)
      fail_once(b) # 3 of 6
      expect(b.state).to eq(:open)
    end

    it "lets exactly one probe through when 10 threads race in half-open, and closes on its success" do
      b = breaker(failure_threshold: 1, cool_down: 30)
      fail_once(b)
      advance(30)
      ran, refused = race([b], 10, expected_runs: 1) { :ok }
      expect([ran, refused]).to eq([1, 9])
      expect(b.state).to eq(:closed)
      expect(events.last(2)).to eq([{ from: :open, to: :half_open }, { from: :half_open, to: :closed }])
    end

    it "lets half_open_probes probes through at once" do
      b = breaker(failure_threshold: 1, half_open_probes: 3)
      fail_once(b)
      advance(30)
      expect(race([b], 10, expected_runs: 3) { :ok }).to eq([3, 7])
    end

    it "opens once when 20 threads fail together" do
      b = breaker(failure_threshold: 5)
      expect(race([b], 20, expected_runs: 20) { raise boom }).to eq([20, 0])
      expect(b.state).to eq(:open)
      expect(events).to eq([{ from: :closed, to: :open }])
    end

    it "frees the probe of an aborted call, and presumes a silent probe lost after the cool-down" do
      b = breaker(failure_threshold: 1, cool_down: 30)
      fail_once(b)
      advance(30)
      abort = Class.new(Exception) # rubocop:disable Lint/InheritException
      expect { b.call { raise abort } }.to raise_error(abort)
      expect(b.state).to eq(:half_open)

      stuck = Thread.new { b.call { sleep } } # a probe that never reports
      wait_until("the stuck probe") { stuck.status == "sleep" }
      expect { b.call { :ok } }.to raise_error(described_class::OpenError)
      advance(30)
      expect(b.call { :ok }).to eq(:ok)
      expect(b.state).to eq(:closed)
      stuck.kill.join
      expect(b.state).to eq(:closed) # the lost probe's late word changes nothing
    end

    it "resets to closed" do
      b = breaker(failure_threshold: 1)
      fail_once(b)
      b.reset!
      expect(b.state).to eq(:closed)
      expect(b.call { 1 }).to eq(1)
      expect(events).to eq([{ from: :closed, to: :open }, { from: :open, to: :closed }])
    end
  end

  context "in this process" do
    let(:store) { { store: :memory } }

    include_examples "a circuit breaker"

    it "keeps one breaker per name in the registry" do
      described_class.reset_registry!
      first = described_class.for("api.openai.com", failure_threshold: 2)
      expect(described_class.for("api.openai.com")).to be(first)
      expect(described_class.for(:"api.openai.com", failure_threshold: 9)).to be(first)
      expect(described_class.for("api.example.com")).not_to be(first)
    ensure
      described_class.reset_registry!
    end

    it "rejects bad options" do
      expect { described_class.new("a b") }.to raise_error(ArgumentError, /name/)
      expect { described_class.new("x", failure_threshold: 0) }.to raise_error(ArgumentError, /failure_threshold/)
      expect { described_class.new("x", failure_rate: 1.5) }.to raise_error(ArgumentError, /failure_rate/)
      expect { described_class.new("x", store: :disk) }.to raise_error(ArgumentError, /store/)
    end
  end

  context "in Redis" do
    before(:all) do
      require "redis"
      Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
      @redis = Redis.new(url: url, connect_timeout: 1)
      begin
        @redis.ping
      rescue Redis::BaseConnectionError => e
        @unreachable = e.message
      end
    end

    after(:all) { @redis&.close }

    let(:store) { { store: :auto } }
    let(:key) { "#{namespace}:breaker:#{name}" }

    around do |example|
      raise "Redis is not reachable at #{url} (bin/setup --services starts one): #{@unreachable}" if @unreachable

      with_config(redis_url: url, redis_namespace: namespace, logger: false) do
        errors = VirtualTrainerOptimizer.internal_errors
        example.run
        # Every example here must have used Redis, not the fallback.
        expect(VirtualTrainerOptimizer.internal_errors).to eq(errors)
      end
    ensure
      keys = @redis.scan_each(match: "#{namespace}:*").to_a unless @unreachable
      @redis.del(*keys) unless keys.nil? || keys.empty?
    end

    include_examples "a circuit breaker"

    it "shares its state with a breaker on another client, under the namespace, with a TTL" do
      a = described_class.new(name, failure_threshold: 2, window: 60, cool_down: 30)
      own = Redis.new(url: url)
      b = described_class.new(name, store: own)
      2.times { fail_once(a) }
      expect(b.state).to eq(:open)
      expect { b.call { raise "must not run" } }.to raise_error(described_class::OpenError)
      expect(@redis.hget(key, "state")).to eq("open")
      expect(@redis.ttl(key)).to be_between(110, 120)

      b.reset!
      expect(a.state).to eq(:closed)
      expect(@redis.exists?(key)).to be(false)
    ensure
      own&.close
    end

    it "lets one probe through across two clients, and opens once when threads on both fail" do
      own = Redis.new(url: url)
      pair = [described_class.new(name, failure_threshold: 5, clock: clock),
              described_class.new(name, failure_threshold: 5, clock: clock, store: own)]
      expect(race(pair, 20, expected_runs: 20) { raise boom }).to eq([20, 0])
      expect(events).to eq([{ from: :closed, to: :open }])
      advance(30)
      expect(race(pair, 10, expected_runs: 1) { :ok }).to eq([1, 9])
      expect(pair.map(&:state)).to eq(%i[closed closed])
    ensure
      own&.close
    end

    it "shares its state with another process" do
      b = described_class.new(name, failure_threshold: 1, cool_down: 30)
      fail_once(b)
      script = <<~RUBY
        require "json"
        require "virtual_trainer_optimizer"
        VirtualTrainerOptimizer.config.redis_url = ENV.fetch("VTO_REDIS_URL")
        VirtualTrainerOptimizer.config.redis_namespace = ENV.fetch("VTO_NAMESPACE")
        breaker = VirtualTrainerOptimizer::CircuitBreaker.new(ENV.fetch("VTO_BREAKER"))
        out = { state: breaker.state, ran: false }
        begin
          breaker.call { out[:ran] = true }
        rescue VirtualTrainerOptimizer::CircuitBreaker::OpenError => e
          out[:retry_after] = e.retry_after
        end
        breaker.reset!
        out[:internal_errors] = VirtualTrainerOptimizer.internal_errors
        puts JSON.generate(out)
      RUBY
      env = { "VTO_REDIS_URL" => url, "VTO_NAMESPACE" => namespace, "VTO_BREAKER" => name }
      out, err, status = Open3.capture3(env, RbConfig.ruby, "-Ilib", "-e", script, chdir: root)
      raise "child failed:\n#{out}#{err}" unless status.success?

      child = JSON.parse(out.lines.last)
      expect(child).to include("state" => "open", "ran" => false, "internal_errors" => 0)
      expect(child["retry_after"]).to be_between(25, 30)
      expect(b.state).to eq(:closed) # the child's reset
    end
  end

  it "falls back to this process's state when Redis is down, logging once" do
    log = StringIO.new
    bad = "redis://127.0.0.1:1/0"
    with_config(redis_url: bad, redis_namespace: namespace, logger: Logger.new(log)) do
      errors = VirtualTrainerOptimizer.internal_errors
      b = described_class.new(name, failure_threshold: 2, clock: clock)
      expect(b.call { :ok }).to eq(:ok)
      2.times { expect { b.call { raise boom } }.to raise_error(boom) }
      expect(b.state).to eq(:open)
      expect { b.call { :ok } }.to raise_error(described_class::OpenError)
      expect(VirtualTrainerOptimizer.internal_errors).to be > errors
      expect(log.string.scan("internal error").size).to eq(1)
      expect(log.string).to include("StorageError", "Redis::CannotConnectError")
      expect(log.string).not_to include(bad)
    end
  end
end
