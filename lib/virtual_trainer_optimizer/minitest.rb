# frozen_string_literal: true

require "minitest"
require_relative "../virtual_trainer_optimizer"
require_relative "query_counter"
require_relative "constant_queries"

module VirtualTrainerOptimizer
  # Minitest assertions, loaded only by `require "virtual_trainer_optimizer/minitest"`
  # and included into Minitest::Test. The failure messages are the RSpec
  # matchers': count, normalized SQL, call site and fix.
  module Minitest
    # Fails when the block makes an N+1 query (`threshold:` overrides
    # n_plus_one_threshold).
    def assert_no_n_plus_one(threshold: nil, &block)
      assert_no_findings(:n_plus_one, "N+1 queries", n_plus_one_threshold: threshold, &block)
    end

    # Fails when a query in the block takes `over_ms` or more.
    def assert_no_slow_queries(over_ms:, &block)
      unless over_ms.is_a?(Numeric) && over_ms.positive?
        raise ArgumentError, "over_ms must be a positive number of milliseconds, got #{over_ms.inspect}"
      end

      assert_no_findings(:slow_query, "queries slower than #{over_ms} ms", slow_query_ms: over_ms, &block)
    end

    # Fails unless the block makes exactly `count` queries (schema, transaction
    # control and query-cache hits left out).
    def assert_queries(count, including_cached: false, &block)
      queries = QueryCounter.collect(including_cached: including_cached, &block)
      assert queries.size == count,
             "expected the block to make exactly #{count} quer#{count == 1 ? 'y' : 'ies'}, " \
             "but it made #{queries.size}#{QueryCounter.listing(queries)}"
    end

    # Fails when the block makes more than `max` queries.
    def assert_max_queries(max, including_cached: false, &block)
      queries = QueryCounter.collect(including_cached: including_cached, &block)
      assert queries.size <= max,
             "expected the block to make at most #{max} queries, but it made #{queries.size}" \
             "#{QueryCounter.listing(queries)}"
    end

    # Fails when the block makes more queries at the larger sizes of `scale`
    # than at the smallest; `populate` creates the data for a size, each size
    # runs in a transaction rolled back afterwards:
    #   assert_constant_queries(scale: [2, 5], populate: ->(n) { create_users(n) }) { get "/api/users" }
    def assert_constant_queries(scale:, populate:, ignoring: [], warm_up: true, rollback: true, &block)
      check = ConstantQueries.new(scale, populate, ignoring: Array(ignoring), warm_up: warm_up, rollback: rollback)
      assert check.check(block), -> { check.growth_message }
    end

    private

    def assert_no_findings(kind, what, **thresholds, &block)
      result = VirtualTrainerOptimizer.scan("assertion", raise_on: [], **thresholds.compact, &block)
      found = result.findings.select { |f| f.kind == kind }
      assert found.empty?, QueryCounter.findings_message(what, found)
    end
  end
end

Minitest::Test.include(VirtualTrainerOptimizer::Minitest) if defined?(Minitest::Test)
# The CI summary (config.ci_summary) once the tests have run: Minitest runs
# them in its own at_exit hook, before a hook registered later would run.
if Minitest.respond_to?(:after_run)
  VirtualTrainerOptimizer::CiSummary.framework_hook!
  Minitest.after_run { VirtualTrainerOptimizer::CiSummary.finish }
end
