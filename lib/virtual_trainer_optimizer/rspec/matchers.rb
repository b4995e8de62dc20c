# frozen_string_literal: true

require "rspec/expectations"
require_relative "../query_counter"
require_relative "../constant_queries"

module VirtualTrainerOptimizer
  # RSpec matchers, loaded only by `require "virtual_trainer_optimizer/rspec"`:
  # make_n_plus_one_queries, make_queries, make_slow_queries,
  # make_duplicate_queries, perform_constant_queries.
  # Each runs the expectation's block as a unit of work (a scan), so the
  # failure message carries the detector's findings: count, normalized SQL,
  # call site and fix.
  module RSpec
    # What both matcher families share: block expectations, SQL patterns.
    module BlockMatcher
      def supports_block_expectations?
        true
      end

      private

      def sql_matches?(pattern, sql)
        QueryCounter.matches?(pattern, sql)
      end
    end

    # Runs the block as a scan and expects findings of one kind, or none.
    # `.ignoring(pattern)` (a Regexp, or a String contained in the normalized
    # SQL) leaves matching findings out.
    class FindingsMatcher
      include BlockMatcher

      def initialize(kind, what, **scan_options)
        @kind = kind
        @what = what
        @scan_options = scan_options
        @ignored = []
      end

      def ignoring(pattern)
        @ignored << pattern
        self
      end

      def matches?(block)
        result = VirtualTrainerOptimizer.scan("expectation", raise_on: [], **@scan_options) { block.call }
        @found = result.findings.select { |f| f.kind == @kind && !ignored?(f) }
        @found.any?
      end

      def does_not_match?(block)
        !matches?(block)
      end

      def failure_message
        "expected the block to make #{@what}, but it made none"
      end

      def failure_message_when_negated
        QueryCounter.findings_message(@what, @found)
      end

      def description
        "make #{@what}"
      end

      private

      def ignored?(finding)
        @ignored.any? { |pattern| sql_matches?(pattern, finding.sql) }
      end
    end

    # `expect { ... }.not_to make_n_plus_one_queries`, with `.with_threshold(n)`.
    class MakeNPlusOneQueries < FindingsMatcher
      def initialize
        super(:n_plus_one, "N+1 queries")
      end

      def with_threshold(count)
        unless count.is_a?(Integer) && count >= 2
          raise ArgumentError, "with_threshold needs an Integer >= 2, got #{count.inspect}"
        end

        @scan_options[:n_plus_one_threshold] = count
        self
      end
    end

    # `expect { ... }.to make_queries(count: 3)`, `make_queries(at_most: 5)`,
    # `make_queries(matching: /completed_workouts/)` (combinable). Counts what
    # the app sent: schema queries, transaction control and query-cache hits
    # are left out, unless `.including_cached`.
    class MakeQueries
      include BlockMatcher

      def initialize(count: nil, at_most: nil, matching: nil)
        if count.nil? && at_most.nil? && matching.nil?
          raise ArgumentError, "make_queries needs count:, at_most: or matching:"
        end

        @count = count
        @at_most = at_most
        @matching = matching
        @cached = false
      end

      def including_cached
        @cached = true
        self
      end

      def matches?(block)
        @queries = QueryCounter.collect(including_cached: @cached) { block.call }
        @selected = @matching ? @queries.select { |sql| sql_matches?(@matching, sql) } : @queries
        n = @selected.size
        (@count.nil? || n == @count) && (@at_most.nil? || n <= @at_most) && (@count || @at_most || n.positive?)
      end

      def failure_message
        "expected the block to make #{expectation}, but it made #{@selected.size}#{listing}"
      end

      def failure_message_when_negated
        "expected the block not to make #{expectation}, but it made #{@selected.size}#{listing}"
      end

      def description
        "make #{expectation}"
      end

      private

      def expectation
        parts = []
        parts << "exactly #{@count}" if @count
        parts << "at most #{@at_most}" if @at_most
        parts << "some" if parts.empty?
        "#{parts.join(' and ')} quer#{@count == 1 ? 'y' : 'ies'}#{" matching #{@matching.inspect}" if @matching}" \
          "#{' (query-cache hits included)' if @cached}"
      end

      def listing
        QueryCounter.listing(@selected)
      end
    end

    # `expect { |n| get "/api/users" }.to perform_constant_queries.with_scale(2, 5) { |n| create_users(n) }`:
    # the scale's block creates the data for n, the expectation's block (given
    # n too) is the code under test; the query count at the larger sizes must
    # not exceed the count at the smallest. Each size runs in a transaction
    # rolled back afterwards. `.ignoring(pattern)` leaves matching statements
    # out; `.without_warming_up` skips the uncounted first run;
    # `.without_rollback` for code that cannot run inside a transaction.
    class PerformConstantQueries
      include BlockMatcher

      def initialize
        @ignored = []
        @options = {}
      end

      def with_scale(*sizes, &populate)
        @sizes = sizes
        @populate = populate
        self
      end

      def ignoring(pattern)
        @ignored << pattern
        self
      end

      def without_warming_up
        @options[:warm_up] = false
        self
      end

      def without_rollback
        @options[:rollback] = false
        self
      end

      def matches?(block)
        unless @sizes
          raise ArgumentError, "perform_constant_queries needs .with_scale(small, large) { |n| create the data for n }"
        end

        @check = ConstantQueries.new(@sizes, @populate, ignoring: @ignored, **@options)
        @check.check(block)
      end

      def does_not_match?(block)
        !matches?(block)
      end

      def failure_message
        @check.growth_message
      end

      def failure_message_when_negated
        @check.constant_message
      end

      def description
        "perform a constant number of queries"
      end
    end

    # The matcher methods, included into every example group.
    module Matchers
      def make_n_plus_one_queries
        MakeNPlusOneQueries.new
      end

      def make_queries(count: nil, at_most: nil, matching: nil)
        MakeQueries.new(count: count, at_most: at_most, matching: matching)
      end

      # `expect { ... }.not_to make_slow_queries(over_ms: 50)`
      def make_slow_queries(over_ms:)
        unless over_ms.is_a?(Numeric) && over_ms.positive?
          raise ArgumentError, "over_ms must be a positive number of milliseconds, got #{over_ms.inspect}"
        end

        FindingsMatcher.new(:slow_query, "queries slower than #{over_ms} ms", slow_query_ms: over_ms)
      end

      def perform_constant_queries
        PerformConstantQueries.new
      end

      # `expect { ... }.not_to make_duplicate_queries`: the same SQL and values twice.
      def make_duplicate_queries
        FindingsMatcher.new(:duplicate_query, "duplicate queries")
      end
    end
  end
end
