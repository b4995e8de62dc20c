# frozen_string_literal: true

# Backoff with a seeded Random and a sleeper that only records: the exact
# waits, no real sleeping.
RSpec.describe VirtualTrainerOptimizer::Retry do
  flaky = Class.new(StandardError)
  limited = Class.new(StandardError) do
    attr_reader :retry_after

    def initialize(retry_after)
      @retry_after = retry_after
      super("rate limited")
    end
  end

  let(:waits) { [] }
  let(:sleeper) { ->(seconds) { waits << seconds.round(6) } }

  def retried(**options, &block)
    described_class.call(sleeper: sleeper, random: Random.new(42), on: [Class.new(StandardError)], **options, &block)
  end

  it "backs off exponentially with full jitter, and returns the first success" do
    attempts = []
    result = retried(on: [flaky]) do |attempt|
      attempts << attempt
      raise flaky if attempt < 4

      :done
    end
    expect(result).to eq(:done)
    expect(attempts).to eq([1, 2, 3, 4])
    # Random.new(42).rand * 0.5, * 1.0, * 2.0
    expect(waits).to eq([0.18727, 0.950714, 1.463988])
  end

  it "caps the delay at max_delay, with equal jitter or none" do
    expect { retried(attempts: 6, base: 1, max_delay: 5, jitter: :equal, on: [flaky]) { raise flaky } }
      .to raise_error(flaky)
    expect(waits).to eq([0.68727, 1.950714, 3.463988, 3.996646, 2.890047])
    waits.clear
    expect { retried(attempts: 6, base: 1, max_delay: 5, jitter: nil, on: [flaky]) { raise flaky } }
      .to raise_error(flaky)
    expect(waits).to eq([1, 2, 4, 5, 5])
  end

  it "raises the last error when out of attempts, and never retries other errors" do
    calls = 0
    expect { retried(attempts: 3, on: [flaky]) { raise flaky, "try #{calls += 1}" } }
      .to raise_error(flaky, "try 3")
    expect(waits.size).to eq(2)

    calls = 0
    expect { retried(on: [flaky]) { calls += 1; raise ArgumentError } }.to raise_error(ArgumentError)
    expect(calls).to eq(1)
  end

  it "retries flagged results and returns the last one when out of attempts" do
    results = [{ status: 503 }, { status: 429, retry_after: "2.5" }, { status: 503 }]
    last = retried(attempts: 3, retry_if: ->(r) { r[:status] >= 429 }) { |attempt| results[attempt - 1] }
    expect(last).to eq(status: 503)
    expect(waits).to eq([0.18727, 2.5]) # the result's retry_after replaces the backoff

    waits.clear
    expect(retried(retry_if: ->(r) { r != :ok }) { |attempt| attempt == 2 ? :ok : :busy }).to eq(:ok)
    expect(waits.size).to eq(1)
  end

  it "waits an error's retry_after, and gives up when it exceeds max_delay" do
    calls = 0
    result = retried(on: [limited]) do
      calls += 1
      raise limited, 3 if calls == 1

      :ok
    end
    expect(result).to eq(:ok)
    expect(waits).to eq([3.0])

    waits.clear
    calls = 0
    expect { retried(max_delay: 20, on: [limited]) { calls += 1; raise limited, 60 } }.to raise_error(limited)
    expect([calls, waits]).to eq([1, []])
  end

  it "never retries an open circuit unless on: names CircuitBreaker::OpenError" do
    breaker = VirtualTrainerOptimizer::CircuitBreaker.new("retry-spec", failure_threshold: 1, cool_down: 10,
                                                          store: :memory)
    breaker.call { raise flaky } rescue nil # rubocop:disable Style/RescueModifier
    calls = 0
    guarded = -> { breaker.call { calls += 1 } }
    expect { retried(on: [StandardError]) { guarded.call } }
      .to raise_error(VirtualTrainerOptimizer::CircuitBreaker::OpenError)
    expect(waits).to be_empty

    expect do
      retried(attempts: 3, on: [flaky, VirtualTrainerOptimizer::CircuitBreaker::OpenError]) { guarded.call }
    end.to raise_error(VirtualTrainerOptimizer::CircuitBreaker::OpenError)
    expect(waits.size).to eq(2) # its retry_after (10 s, under max_delay) each time
    expect(waits).to all(be_between(9, 10))
    expect(calls).to eq(0)
  end

  it "rejects bad arguments" do
    expect { described_class.call(attempts: 0) { 1 } }.to raise_error(ArgumentError, /attempts/)
    expect { described_class.call(jitter: :half) { 1 } }.to raise_error(ArgumentError, /jitter/)
    expect { described_class.call(on: []) { 1 } }.to raise_error(ArgumentError, /on:/)
    expect { described_class.call }.to raise_error(ArgumentError, /block/)
  end
end
