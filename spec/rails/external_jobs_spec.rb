# frozen_string_literal: true

require_relative "rails_helper"
require_relative "../../demo/lib/fake_openai"
require "tmpdir"

# The spec app's AI jobs call a fake OpenAI-compatible server on 127.0.0.1:
# WarmUpPlanJob through Net::HTTP, DietPlanJob through Faraday with Retry
# and the circuit breaker. What the jobs' units record, what reaches the
# JSON-lines workload and the report, and that no key or text does.
RSpec.describe "AI jobs calling an OpenAI-compatible API (#{VirtualTrainer::DB})" do
  api_key = "sk-test-SECRETKEY0123456789"

  before(:all) do
    @server = FakeOpenAI.new.start
    @env = ENV.to_h.slice("OPENAI_BASE_URL", "OPENAI_API_KEY")
    ENV["OPENAI_BASE_URL"] = @server.base_url
    ENV["OPENAI_API_KEY"] = api_key
  end

  after(:all) do
    @server.stop
    %w[OPENAI_BASE_URL OPENAI_API_KEY].each { |k| @env.key?(k) ? ENV[k] = @env[k] : ENV.delete(k) }
  end

  after { VirtualTrainerOptimizer::CircuitBreaker.reset_registry! }

  let(:user) { User.order(:id).first }

  # The job's own result: the scan around perform_now adopts it.
  def job_result(&block)
    VirtualTrainerOptimizer.scan("ai jobs", &block)
  end

  it "records WarmUpPlanJob's Net::HTTP calls in the job: figures, cost, the loop and the repeated prompts" do
    result = job_result { WarmUpPlanJob.perform_now(user.id) }
    calls = result.external_calls
    expect(calls.size).to eq(4) # two workouts of two exercise groups
    expect(calls.map { |c| [c.scope_kind, c.scope_name, c.host, c.method, c.path, c.status] }.uniq)
      .to eq([[:job, "WarmUpPlanJob", "127.0.0.1", "POST", "/v1/chat/completions", 200]])
    expect(calls.map { |c| [c.model, c.prompt_tokens, c.completion_tokens, c.total_tokens, c.cost_usd] }.uniq)
      .to eq([["gpt-4o-mini-2024-07-18", 850, 400, 1250, 0.0003675]])
    expect(calls.map(&:location).uniq).to eq([marker("warm_up_call")])
    expect(calls.map(&:timeout_s).uniq).to eq([30.0])
    # "A warm-up for Group 0" and "... Group 1", each twice.
    expect(calls.map(&:prompt_fingerprint).tally.values).to eq([2, 2])

    in_loop = result.findings_of(:external_call_in_loop)
    expect(in_loop.map { |f| [f.scope_name, f.count, f.location] }).to eq([["WarmUpPlanJob", 4, marker("warm_up_call")]])
    duplicates = result.findings_of(:duplicate_external_call)
    expect(duplicates.size).to eq(2)
    expect(duplicates.map(&:scope_name).uniq).to eq(["WarmUpPlanJob"])
    expect(duplicates.map { |f| f.external[:hit_rate] }).to eq([0.5, 0.5])
  end

  it "records DietPlanJob's Faraday calls, each retry a call, and the breaker stops the next job" do
    ok = job_result { DietPlanJob.perform_now(user.id) }
    expect(ok.external_calls.map { |c| [c.scope_name, c.status, c.model, c.location] })
      .to eq([["DietPlanJob", 200, "gpt-4o-2024-07-18", marker("diet_call")]])
    # gpt-4o: 850 × 2.50 / 10⁶ + 400 × 10.00 / 10⁶
    expect(ok.external_calls.first.cost_usd).to eq(0.006125)
    expect(ok.external_calls.first.timeout_s).to eq(20.0)

    served = @server.requests
    failed = job_result do
      expect { DietPlanJob.perform_now(user.id, "500") }.to raise_error(DietPlanJob::ServerError)
    end
    expect(failed.external_calls.map(&:status)).to eq([500, 500, 500]) # three attempts
    errors = failed.findings_of(:external_errors)
    expect(errors.map { |f| [f.scope_name, f.priority, f.external[:hit_rate]] }).to eq([["DietPlanJob", :high, 1.0]])
    expect(@server.requests).to eq(served + 3)

    # Three failures opened the circuit: the next job fails fast, calling nothing.
    expect(DietPlanJob.breaker.state).to eq(:open)
    stopped = job_result do
      expect { DietPlanJob.perform_now(user.id) }.to raise_error(VirtualTrainerOptimizer::CircuitBreaker::OpenError)
    end
    expect(stopped.external_calls).to be_empty
    expect(@server.requests).to eq(served + 3)
  end

  it "flags a timeout that outlives the job's budget, with a timeout that fits" do
    result = with_config(budgets: { "DietPlanJob" => 10_000 }) { job_result { DietPlanJob.perform_now(user.id) } }
    timeout = result.findings_of(:external_timeout)
    expect(timeout.map { |f| [f.scope_name, f.location] }).to eq([["DietPlanJob", marker("diet_call")]])
    expect(timeout.first.message).to include("20")
    expect(timeout.first.suggestion).to match(/timeout/)
    # Without a budget the job has no expected run to compare the 20 s timeout with.
    expect(job_result { DietPlanJob.perform_now(user.id) }.findings_of(:external_timeout)).to be_empty
  end

  it "writes each job run's calls to the JSON lines and the report sums them, keeping no key or text" do
    Dir.mktmpdir do |dir|
      jsonl = File.join(dir, "vto.jsonl")
      log = StringIO.new
      with_config(jsonl_path: jsonl, logger: Logger.new(log)) do
        2.times { WarmUpPlanJob.perform_now(user.id) }
        DietPlanJob.perform_now(user.id)
        expect { DietPlanJob.perform_now(user.id, "429") }.to raise_error(DietPlanJob::ServerError)
      end
      VirtualTrainerOptimizer::JsonlSink.flush
      lines = File.readlines(jsonl).map { |l| JSON.parse(l) }
      external = lines.select { |l| l["type"] == "external" }
      expect(external.map { |l| [l["kind"], l["name"], l["calls"].size] })
        .to eq([["job", "WarmUpPlanJob", 4], ["job", "WarmUpPlanJob", 4], ["job", "DietPlanJob", 1],
                ["job", "DietPlanJob", 3]])

      input = VirtualTrainerOptimizer::Report.input(connection: ActiveRecord::Base.connection, jsonl: jsonl)
      expect(input[:external][:scopes].size).to eq(4)
      expect(input[:external][:prices]["models"]).to include("gpt-4o-mini", "gpt-4o")
      expect(input[:external][:options][:monthly_scale]).to be > 0

      report = JSON.parse(VirtualTrainerOptimizer::Report.render(input, "json"))
      assessed = report.dig("assessment", "external")
      expect(assessed["calls"]).to eq(12)
      # 8 × 0.0003675 (gpt-4o-mini) + 1 × 0.006125 (gpt-4o); the 429s cost nothing.
      expect(assessed["cost_usd"]).to be_within(1e-9).of(8 * 0.0003675 + 0.006125)
      categories = report["recommendations"].map { |r| r["category"] }
      # The same two prompts across both runs: 4 calls each, a 75% hit rate.
      expect(categories).to include("duplicate_external_call", "external_call_in_loop", "external_errors")
      duplicate = report["recommendations"].find { |r| r["category"] == "duplicate_external_call" }
      expect(duplicate["solution"]).to include("Rails.cache.fetch")
      expect(duplicate["evidence"].join).to include("WarmUpPlanJob")

      texts = { jsonl: File.read(jsonl), report: JSON.generate(report), log: log.string }
      texts.each do |where, text|
        [api_key, "SECRETKEY", "Bearer", "A warm-up for", "A week of meals", FakeOpenAI::ANSWER, "ERROR-BODY-TEXT"]
          .each { |secret| expect(text).not_to include(secret), "#{secret} in #{where}" }
      end
    end
  end
end
