# frozen_string_literal: true

require_relative "query_counter"

module VirtualTrainerOptimizer
  # The constant-query check behind `perform_constant_queries` and
  # `assert_constant_queries`: runs the code under test at two or more data
  # sizes and compares the number of queries it makes. Each size runs in its
  # own transaction (a savepoint under transactional fixtures), rolled back
  # afterwards, so sizes never see each other's data: populate(n) creates the
  # data (its queries are not counted), the block runs once to warm class-level
  # caches (at the first size only), then once more, counted and scanned.
  class ConstantQueries
    Run = Struct.new(:size, :queries, :findings)

    attr_reader :runs

    # sizes: two or more distinct positive Integers. populate: called with each
    # size before the block. ignoring: patterns (Regexp or String contained in
    # the normalized SQL) left out of the counts.
    def initialize(sizes, populate, ignoring: [], warm_up: true, rollback: true)
      sizes = sizes.flatten
      unless sizes.size >= 2 && sizes.all? { |n| n.is_a?(Integer) && n.positive? } && sizes.uniq.size == sizes.size
        raise ArgumentError, "the scale needs two or more distinct positive Integers, got #{sizes.inspect}"
      end
      raise ArgumentError, "the scale needs a block that creates the data for a size: { |n| ... }" unless populate

      @sizes = sizes.sort
      @populate = populate
      @ignoring = ignoring
      @warm_up = warm_up
      @rollback = rollback
    end

    # Runs the block at every size; true when no larger size made more queries
    # than the smallest.
    def check(block)
      @runs = @sizes.each_with_index.map do |size, i|
        isolated do
          @populate.call(size)
          block.call(size) if @warm_up && i.zero?
          measure(size, block)
        end
      end
      constant?
    end

    def constant?
      first = @runs.first.queries.size
      @runs.all? { |run| run.queries.size <= first }
    end

    def counts
      @runs.map { |run| "#{run.queries.size} at n = #{run.size}" }.join(", ")
    end

    # Why the check failed: counts per size, the statements whose count grew,
    # and the detector's N+1 findings at the largest size.
    def growth_message
      first = @runs.first
      last = @runs.max_by { |run| run.queries.size }
      before = first.queries.tally
      grew = last.queries.tally.select { |sql, n| n > before.fetch(sql, 0) }
      lines = ["expected the number of queries not to grow with the data, but it went #{counts}"]
      unless grew.empty?
        lines << "queries that grew (n = #{first.size} -> n = #{last.size}):"
        grew.sort_by { |_, n| -n }.each { |sql, n| lines << "  #{before.fetch(sql, 0)} -> #{n}  #{sql}" }
      end
      findings = last.findings.select { |f| f.kind == :n_plus_one }
      unless findings.empty?
        lines << "N+1 queries at n = #{last.size}:"
        findings.each { |f| lines << "  - #{f.message}" }
      end
      lines.join("\n")
    end

    def constant_message
      "expected the number of queries to grow with the data, but it did not: #{counts}"
    end

    private

    def measure(size, block)
      queries = nil
      result = VirtualTrainerOptimizer.scan("constant queries at n = #{size}", raise_on: []) do
        queries = QueryCounter.collect { block.call(size) }
      end
      queries.reject! { |sql| @ignoring.any? { |pattern| QueryCounter.matches?(pattern, sql) } }
      Run.new(size, queries, result.findings)
    end

    # Runs the block in a transaction that is rolled back (a savepoint when one
    # is open already) and returns the block's value.
    def isolated
      return yield unless @rollback && defined?(ActiveRecord::Base)

      value = nil
      ActiveRecord::Base.transaction(requires_new: true) do
        value = yield
        raise ActiveRecord::Rollback
      end
      value
    end
  end
end
