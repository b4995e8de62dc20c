# frozen_string_literal: true

RSpec.describe VirtualTrainerOptimizer::Configuration do
  subject(:config) { described_class.new }

  it "has a visible default for every option" do
    expect(config.to_h.keys).to eq(described_class::NAMES)
    expect(config.n_plus_one_threshold).to eq(2)
    expect(config.slow_query_ms).to eq(100)
    expect(config.request_budget_ms).to eq(200)
    expect(config.enabled).to be(true)
  end

  it "is on in development and test, off in production (sampled when turned on)" do
    dev = described_class.new.apply_rails_defaults(env: "development", root: "/app", cleaner: nil)
    expect([dev.enabled, dev.sample_rate, dev.app_root, dev.jsonl_path])
      .to eq([true, 1.0, "/app", "log/virtual_trainer_optimizer.jsonl"])
    prod = described_class.new.apply_rails_defaults(env: "production", root: "/app", cleaner: nil)
    expect([prod.enabled, prod.sample_rate]).to eq([false, 0.1])
    expect([dev.migration_review, prod.migration_review]).to eq([true, false])
  end

  it "keeps what the app set before the framework defaults apply" do
    config.enabled = true
    config.sample_rate = 0.5
    config.apply_rails_defaults(env: "production", root: "/app", cleaner: nil)
    expect([config.enabled, config.sample_rate]).to eq([true, 0.5])
  end

  it "looks budgets up by action, then controller or job, then the fallback (nil: no budget)" do
    config.budgets = { "ReportsController#index" => 2000, "ReportsController" => 800, "ImportJob" => nil }
    expect(config.budget_for("ReportsController", "index", fallback: 200)).to eq(2000)
    expect(config.budget_for("ReportsController", "show", fallback: 200)).to eq(800)
    expect(config.budget_for("ImportJob", fallback: 10_000)).to be_nil
    expect(config.budget_for("OtherJob", fallback: 10_000)).to eq(10_000)
  end

  it "adds allowlist entries without sharing them between configurations" do
    config.allow(location: "app/services/legacy_import.rb", kind: :n_plus_one)
    expect(config.allowlist).to eq([{ location: "app/services/legacy_import.rb", kind: :n_plus_one }])
    expect(described_class.new.allowlist).to eq([])
  end

  it "validates the CI summary options" do
    expect([config.ci_summary, config.ci_summary_formats, config.ci_summary_top]).to eq([false, [:text], 10])
    config.ci_summary = :ci
    config.ci_summary_formats = %w[text sarif]
    expect(config.ci_summary_formats).to eq(%i[text sarif])
    expect { config.ci_summary = :always }.to raise_error(ArgumentError, /true, false or :ci, got :always/)
    expect { config.ci_summary_formats = [:xml] }.to raise_error(ArgumentError, /unknown formats \[:xml\]/)
    expect { config.ci_summary_formats = [] }.to raise_error(ArgumentError, /unknown formats/)
    expect { config.ci_summary_top = 0 }.to raise_error(ArgumentError, /Integer >= 1/)
  end

  it "validates the Redis workload options without echoing a URL's password" do
    expect([config.redis_url, config.redis_namespace, config.redis_ttl]).to eq([nil, "vto", 7 * 24 * 3600])
    config.redis_url = "rediss://:secret@cache.internal:6380/2"
    expect { config.redis_url = "http://:secret@cache.internal" }
      .to raise_error(ArgumentError, /redis:\/\/ or rediss:\/\/ URL/) { |e| expect(e.message).not_to include("secret") }
    expect { config.redis_namespace = "vto:staging" }.to raise_error(ArgumentError, /letters, digits/)
    expect { config.redis_ttl = 0 }.to raise_error(ArgumentError, /redis_ttl must be an Integer >= 1/)
    expect(config.redis_url).to eq("rediss://:secret@cache.internal:6380/2")
  end
end
