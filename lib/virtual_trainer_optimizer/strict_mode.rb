# frozen_string_literal: true

require_relative "baseline"

module VirtualTrainerOptimizer
  # Strict mode's bookkeeping, independent of the test framework: which
  # findings each test made, which of them the baseline parks, which baseline
  # entries no longer occur; and, when writing the baseline (VTO_BASELINE=write,
  # what `rake vto:baseline` sets), the new file.
  class StrictMode
    DEFAULT_BASELINE = ".vto_baseline.yml"
    TEST_CODE = %r{\A(?:spec|test)/}.freeze
    STALE_MODES = %i[warn fail].freeze

    attr_reader :baseline, :kinds, :stale

    # baseline: the file, relative to the app root. kinds: the finding kinds
    # that fail a test (N+1 queries by default). stale: :warn prints baseline
    # entries that no longer occur, :fail also fails the run. Findings whose
    # call site is in the tests themselves (spec/, test/) count only with
    # include_test_code.
    def initialize(baseline: DEFAULT_BASELINE, kinds: [:n_plus_one], stale: :warn, include_test_code: false,
                   write: ENV["VTO_BASELINE"] == "write")
      kinds = Array(kinds).map(&:to_sym)
      unknown = kinds - Configuration::KINDS
      if kinds.empty? || !unknown.empty?
        raise ArgumentError, "kinds must name finding kinds (#{Configuration::KINDS.join(', ')}), got #{kinds.inspect}"
      end
      unless STALE_MODES.include?(stale)
        raise ArgumentError, "stale must be one of #{STALE_MODES.map(&:inspect).join(', ')}, got #{stale.inspect}"
      end

      @path = File.expand_path(baseline.to_s, VirtualTrainerOptimizer.config.app_root_path)
      @baseline = Baseline.load(@path)
      @kinds = kinds
      @stale = stale
      @include_test_code = include_test_code
      @write = write
      @seen = {}
      @baselined_hits = 0
      @failed_tests = 0
    end

    def writing?
      @write
    end

    def path
      @baseline.path
    end

    # Records the findings of one test; returns those that fail it (none
    # while writing the baseline).
    def check(findings, test_name)
      relevant = findings.select { |f| counts?(f) }
      relevant.each do |f|
        seen = (@seen[Baseline.key_of(f)] ||= { finding: f, tests: {} })
        seen[:tests][test_name] = true
      end
      return [] if writing?

      parked, fresh = relevant.partition { |f| @baseline.include?(f) }
      @baselined_hits += parked.size
      fresh = fresh.uniq { |f| Baseline.key_of(f) }
      @failed_tests += 1 unless fresh.empty?
      fresh
    end

    def baselined?(finding)
      counts?(finding) && @baseline.include?(finding)
    end

    def failure_message(findings)
      what = findings.size == 1 ? "1 new finding" : "#{findings.size} new findings"
      lines = ["virtual_trainer_optimizer strict mode: this example introduced #{what}:"]
      findings.each { |f| lines << "  - #{f.message}" }
      lines << "Fix it, or park it in #{CallSite.relative(path)} by running `rake vto:baseline`."
      lines.join("\n")
    end

    # Baseline entries nobody hit in this run.
    def stale_entries
      @baseline.entries.reject { |e| @seen.key?(e.key) }
    end

    # Ends the run: writes the baseline when writing, and returns the report
    # for the end of the run. `full_run`: every test ran, so an entry nobody
    # hit is stale (and a written baseline drops it).
    def finish(full_run:)
      return write_baseline(full_run) if writing?

      lines = ["virtual_trainer_optimizer strict mode: #{@failed_tests} example(s) failed for new findings; " \
               "#{@baselined_hits} parked finding(s) seen (#{CallSite.relative(path)}, #{@baseline.entries.size} entries)"]
      if full_run
        stale = stale_entries
        unless stale.empty?
          lines << "#{stale.size} baseline entr#{stale.size == 1 ? 'y no longer occurs' : 'ies no longer occur'} " \
                   "(remove #{stale.size == 1 ? 'it' : 'them'}, or run `rake vto:baseline`):"
          stale.each { |e| lines << "  - #{e.describe}" }
        end
      else
        lines << "stale baseline entries are checked on full runs only (no file, line or tag filter)"
      end
      lines.join("\n")
    end

    def stale_failure?(full_run)
      !writing? && full_run && stale == :fail && !stale_entries.empty?
    end

    private

    def counts?(finding)
      @kinds.include?(finding.kind) && (@include_test_code || !TEST_CODE.match?(finding.path.to_s))
    end

    def write_baseline(full_run)
      entries = @seen.values.map { |s| Baseline.entry_for(s[:finding], examples: s[:tests].size) }
      # A partial run saw only part of the suite: keep what it did not see.
      kept = full_run ? [] : @baseline.entries.reject { |e| @seen.key?(e.key) }
      Baseline.write(path, entries + kept)
      "virtual_trainer_optimizer: wrote #{entries.size + kept.size} baseline entr" \
        "#{entries.size + kept.size == 1 ? 'y' : 'ies'} to #{CallSite.relative(path)}" \
        "#{" (#{kept.size} kept from the previous file: partial run)" unless full_run}"
    end
  end
end
