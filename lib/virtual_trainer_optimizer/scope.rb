# frozen_string_literal: true

module VirtualTrainerOptimizer
  # A unit of work (request, job, `scan` block). Scopes nest: queries are
  # recorded by the innermost one, which hands its totals to its parent when it
  # ends. State is fiber-local (Thread#[]), so Puma threads and fibers never
  # see each other's scopes.
  class Scope
    CURRENT = :__virtual_trainer_optimizer_scope
    # The innermost scope's native recorder, or nil outside scopes and while
    # paused: the subscriber's only lookup.
    NATIVE = :__virtual_trainer_optimizer_native
    MAX_NESTED_FINDINGS = 1000

    attr_reader :kind, :parent, :started_at, :native
    attr_accessor :name, :budget_ms, :view_ms
    # The request's HTTP method or the job's queue, for the report.
    attr_accessor :detail

    class << self
      def current
        Thread.current[CURRENT]
      end

      # Runs the block as a unit of work and returns [block value, Result].
      # The result is nil when detection is off or the unit was not sampled:
      # requests and jobs are sampled at config.sample_rate unless nested in a
      # watched unit. `always` (an explicit scan) runs even when detection is
      # off for requests and jobs.
      # `thresholds` overrides n_plus_one_threshold / slow_query_ms for this unit.
      def run(kind, name, budget_ms: nil, always: false, raise_on: nil, thresholds: nil)
        config = VirtualTrainerOptimizer.config
        return [yield, nil] unless always || (config.enabled && (current || sample?(config)))

        scope = begin
          new(kind, name, budget_ms, config, raise_on, thresholds)
        rescue StandardError => e
          VirtualTrainerOptimizer.internal_error(e)
          return [yield, nil]
        end
        scope.enter
        failed = true
        begin
          value = yield scope
          failed = false
        ensure
          result = scope.exit(raising: !failed)
        end
        [value, result]
      end

      # Forgets the scopes of the current thread (a forked child starts clean).
      def reset_current!
        Thread.current[CURRENT] = nil
        Thread.current[NATIVE] = nil
      end

      private

      def sample?(config)
        config.sample_rate >= 1.0 || Random.rand < config.sample_rate
      end
    end

    def initialize(kind, name, budget_ms, config, raise_on = nil, thresholds = nil)
      @kind = kind
      @raise_on = raise_on
      @name = name
      @budget_ms = budget_ms
      @config = config
      thresholds ||= {}
      @native = Native::Scope.new(VirtualTrainerOptimizer.dialect,
                                  thresholds.fetch(:n_plus_one_threshold, config.n_plus_one_threshold),
                                  thresholds.fetch(:slow_query_ms, config.slow_query_ms).to_f,
                                  config.duplicate_threshold,
                                  budget_ms&.to_f, config.max_keys, config.max_slow_queries)
    end

    def enter
      @parent = Thread.current[CURRENT]
      @saved_native = Thread.current[NATIVE]
      @pid = VirtualTrainerOptimizer.pid
      @started_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      Thread.current[CURRENT] = self
      Thread.current[NATIVE] = @native
    end

    # Ends the scope: findings to the notifiers; with `raising`, raises for
    # the kinds configured in raise_on. Returns the Result.
    def exit(raising:)
      elapsed_ms = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - @started_at) * 1000.0
      # A forked child leaving its copy of the parent's unit: the parent
      # reports it; the child's state was reset at fork and stays so.
      return empty_result(elapsed_ms) if @pid != VirtualTrainerOptimizer.pid

      Thread.current[CURRENT] = @parent
      Thread.current[NATIVE] = @saved_native
      result = conclude(elapsed_ms)
      # The nested units delivered their own findings already; the result
      # (and what this unit raises for) includes them, so a scan or matcher
      # around a request sees the request's N+1.
      Notifier.deliver(result, raising: raising, raise_on: @raise_on, nested: @nested_findings)
      result.findings = result.findings + @nested_findings if @nested_findings
      result.totals = result.totals + @nested_totals if @nested_totals
      result.external_calls = result.external_calls + @nested_external_calls if @nested_external_calls
      @parent&.adopt(result.findings, result.totals, result.external_calls)
      result
    end

    # Records one outbound HTTP call (External): at most External::MAX_CALLS
    # per unit. `replacing_since` (monotonic ms): a request.openai event
    # replaces the Net::HTTP calls to its host and path made since.
    def record_external(call, replacing_since: nil)
      calls = (@external_calls ||= [])
      if replacing_since
        calls.reject! do |c|
          c[:at_ms] && c[:at_ms] >= replacing_since && c[:host] == call[:host] && c[:path] == call[:path]
        end
      end
      calls << call if calls.size < External::MAX_CALLS
    end

    # Findings, totals and external calls of a unit nested in this one, for
    # this unit's result (at most MAX_NESTED_FINDINGS of each: a long unit
    # around many others stays bounded). The nested unit's calls were
    # analysed there; they are listed here, not analysed again.
    def adopt(findings, totals, external_calls = [])
      @nested_external_calls = bounded_concat(@nested_external_calls, external_calls)
      @nested_findings = bounded_concat(@nested_findings, findings)
      @nested_totals = bounded_concat(@nested_totals, totals)
    end

    private

    # `list` (nil until something is adopted) with as many of `items` as
    # MAX_NESTED_FINDINGS leaves room for.
    def bounded_concat(list, items)
      return list if items.empty?

      list ||= []
      list.concat(items.first(MAX_NESTED_FINDINGS - list.size)) if list.size < MAX_NESTED_FINDINGS
      list
    end

    def conclude(elapsed_ms)
      queries = @native.queries
      db_us = @native.db_us
      @native.budget_ms = @budget_ms&.to_f
      @parent&.native&.absorb(queries, db_us)
      # Per-fingerprint totals (with a SQL sample) feed the JSON-lines and
      # Redis sinks and an explicit scan's result (a workload for the index advisor).
      totals = @config.jsonl_path || @config.redis_url || kind == :scan ? @native.totals : []
      raw = @native.finish(elapsed_ms)
      findings = Finding.build_all(raw, self, elapsed_ms)
      # External calls go through the core once, here, in the unit that made them.
      external_calls, external_findings = External::Analysis.run(self, @external_calls, elapsed_ms) if @external_calls
      Result.new(kind: kind, name: name, findings: external_findings ? findings + external_findings : findings,
                 queries: queries, db_ms: db_us / 1000.0, elapsed_ms: elapsed_ms, view_ms: view_ms, totals: totals,
                 detail: detail, external_calls: external_calls)
    rescue StandardError => e
      VirtualTrainerOptimizer.internal_error(e)
      empty_result(elapsed_ms)
    end

    def empty_result(elapsed_ms)
      Result.new(kind: kind, name: name, findings: [], queries: 0, db_ms: 0.0, elapsed_ms: elapsed_ms,
                 view_ms: nil, totals: [], detail: detail)
    end
  end

  # What a unit of work showed: `#findings` (an Array of Finding) and its
  # totals; `#totals` holds [fingerprint, count, total_ms, normalized SQL] per
  # query shape (for scans, and wherever the JSON-lines sink is on), nested
  # units' included; `#detail` the request's HTTP method or the job's queue;
  # `#external_calls` the outbound HTTP calls (ExternalCall), nested units'
  # included.
  Result = Struct.new(:kind, :name, :findings, :queries, :db_ms, :elapsed_ms, :view_ms, :totals, :detail,
                      :external_calls, keyword_init: true) do
    def findings_of(kind)
      findings.select { |f| f.kind == kind }
    end

    def external_calls
      self[:external_calls] || []
    end

    def to_h
      { kind: kind, name: name, queries: queries, db_ms: db_ms.round(3), elapsed_ms: elapsed_ms.round(3),
        view_ms: view_ms&.round(3), findings: findings.map(&:to_h) }.tap do |h|
        h[:external_calls] = external_calls.map(&:to_h) unless external_calls.empty?
      end
    end
  end
end
