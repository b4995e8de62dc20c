# frozen_string_literal: true

# What the test integration adds to a test suite, measured in one process,
# alternating rounds so machine noise hits every variant alike; CPU time,
# median of the rounds, per example.
#
# 1. Strict mode: an example running one request on the spec app (SQLite),
#    bare against wrapped by strict mode's hook (scan, baseline check). Two
#    requests: one without an N+1, one with an N+1 parked in the baseline
#    (the finding is built, its fix looked up, and matched to the baseline).
# 2. A matcher: `expect { request }.not_to make_n_plus_one_queries` against
#    the bare request.
#
#   ruby -Ilib bench/test_integration.rb        (after `rake compile`)

require_relative "support/spec_app"
require "rspec/expectations"
require "virtual_trainer_optimizer/rspec"

require_relative "support/timing"

ROUNDS = 7
EXAMPLES = 300

# Stands for an RSpec example: what strict mode's hook reads and runs.
Example = Struct.new(:id, :full_description, :metadata, :body) do
  def run
    body.call
  end
end

request = Rack::MockRequest.new(Rails.application)
clean = -> { request.get("/api/users/preloaded") }
n_plus_one = -> { request.get("/api/users") }
VirtualTrainerOptimizer.config.jsonl_path = nil

baseline = File.join(Dir.mktmpdir("vto-bench"), ".vto_baseline.yml")
VirtualTrainerOptimizer::RSpec.strict!(baseline: baseline, write: true)
VirtualTrainerOptimizer::RSpec.around_example(Example.new("warm", "warm", {}, n_plus_one))
VirtualTrainerOptimizer::RSpec.strict_mode.finish(full_run: true) # parks the N+1
VirtualTrainerOptimizer::RSpec.strict!(baseline: baseline)

include RSpec::Matchers
include VirtualTrainerOptimizer::RSpec::Matchers

variants = {
  "bare request, no N+1" => -> { EXAMPLES.times { clean.call } },
  "strict mode, no N+1" => lambda {
    EXAMPLES.times { |i| VirtualTrainerOptimizer::RSpec.around_example(Example.new(i, "e", {}, clean)) }
  },
  "bare request, parked N+1" => -> { EXAMPLES.times { n_plus_one.call } },
  "strict mode, parked N+1" => lambda {
    EXAMPLES.times { |i| VirtualTrainerOptimizer::RSpec.around_example(Example.new(i, "e", {}, n_plus_one)) }
  },
  "not_to make_n_plus_one_queries, no N+1" => -> { EXAMPLES.times { expect { clean.call }.not_to make_n_plus_one_queries } }
}

variants.each_value(&:call) # warm-up
times = Hash.new { |h, k| h[k] = [] }
ROUNDS.times do
  variants.each do |name, run|
    GC.start
    t = cpu
    run.call
    times[name] << (cpu - t) / EXAMPLES * 1e6
  end
end

us = times.transform_values { |v| median(v) }
queries = VirtualTrainerOptimizer.scan { clean.call }.queries
parked_queries = VirtualTrainerOptimizer.scan { n_plus_one.call }.queries
puts "per example, CPU µs, median of #{ROUNDS} rounds of #{EXAMPLES} (Ruby #{RUBY_VERSION}, Rails #{Rails.version})"
us.each { |name, v| puts format("  %-42s %9.1f", name, v) }
puts format("strict mode adds %.1f µs to an example without an N+1 (%d queries), %.1f µs with a parked one (%d queries)",
            us["strict mode, no N+1"] - us["bare request, no N+1"], queries,
            us["strict mode, parked N+1"] - us["bare request, parked N+1"], parked_queries)
puts format("the matcher adds %.1f µs", us["not_to make_n_plus_one_queries, no N+1"] - us["bare request, no N+1"])
