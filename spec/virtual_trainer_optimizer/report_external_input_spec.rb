# frozen_string_literal: true

require "virtual_trainer_optimizer/report"

# The report's external section from the recorded scopes and
# config/vto_infrastructure.yml's `external:`.
RSpec.describe VirtualTrainerOptimizer::Report::ExternalInput do
  root = File.expand_path("../..", __dir__)
  scopes = [{ kind: "job", name: "ProgramJob", elapsed_ms: 1000.0, calls: [{ "host" => "api.openai.com" }] }]

  it "is nil when no call was recorded" do
    expect(described_class.collect([], 60.0, {}, root)).to be_nil
  end

  it "passes the scopes, the price table and the declared rate limits, growth and monthly scale" do
    declared = { "external" => { "monthly_scale" => 720, "growth" => [1, 3],
                                 "rate_limits" => { "API.openai.com" => { "requests_per_minute" => 500 } } } }
    input = described_class.collect(scopes, 60.0, declared, root)
    expect(input[:scopes]).to eq(scopes)
    expect(input[:prices]).to include("as_of", "models")
    expect(input[:options]).to eq(monthly_scale: 720.0)
    expect(input[:growth]).to eq([1.0, 3.0])
    expect(input[:rate_limits]).to eq("api.openai.com" => { "requests_per_minute" => 500.0 })
  end

  it "takes the window as a sample of a 30-day month when no monthly scale is declared" do
    expect(described_class.collect(scopes, 3600.0, {}, root)[:options]).to eq(monthly_scale: 720.0)
    expect(described_class.collect(scopes, 0.0, {}, root)[:options]).to eq(monthly_scale: 1.0)
    expect(described_class.collect(scopes, 60.0, {}, root)).not_to have_key(:growth) # the core's default
  end

  it "refuses a declaration it cannot use, naming the setting" do
    bad = {
      { "external" => "yes" } => /external must be a mapping/,
      { "external" => { "monthly_scale" => 0 } } => /external.monthly_scale must be a positive number, got 0/,
      { "external" => { "growth" => [] } } => /external.growth must list multipliers/,
      { "external" => { "growth" => [2, "x"] } } => /external.growth must be a positive number, got "x"/,
      { "external" => { "rate_limits" => [1] } } => /external.rate_limits must map hosts to limits/,
      { "external" => { "rate_limits" => { "api.openai.com" => { "rpm" => 5 } } } } =>
        /external.rate_limits.api.openai.com takes requests_per_minute and tokens_per_minute/,
      { "external" => { "rate_limits" => { "api.openai.com" => { "tokens_per_minute" => -1 } } } } =>
        /tokens_per_minute must be a positive number, got -1/
    }
    bad.each do |declared, message|
      expect { described_class.collect(scopes, 60.0, declared, root) }.to raise_error(ArgumentError, message)
    end
  end
end
