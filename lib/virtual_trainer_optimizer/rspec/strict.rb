# frozen_string_literal: true

require_relative "../strict_mode"
require_relative "../ci_summary"

module VirtualTrainerOptimizer
  # Strict mode's RSpec hooks: an example scanned as a unit of work, failed
  # for findings the baseline does not park; the report at the end.
  module RSpec
    class << self
      # The StrictMode in force, or nil.
      attr_reader :strict_mode

      # Scans every example and fails the one whose findings (N+1 queries by
      # default) are not parked in the baseline file; reports baseline entries
      # that no longer occur at the end of a full run. `vto_strict: false`
      # metadata exempts an example. Options: see StrictMode.new.
      def strict!(**options)
        use_strict_mode(StrictMode.new(**options), all: true)
      end

      # Strict mode for examples tagged `vto_strict: true` only, with these
      # options (the defaults apply to tagged examples without this call).
      def strict_for_tagged!(**options)
        use_strict_mode(StrictMode.new(**options), all: false)
      end

      # Runs one example under strict mode, when strict mode applies to it.
      def around_example(example)
        strict = strict_for(example.metadata)
        return example.run unless strict

        name = example.respond_to?(:full_description) ? example.full_description : example.description
        result = VirtualTrainerOptimizer.scan("example: #{name}", raise_on: []) { example.run }
        fresh = strict.check(result.findings, example.id)
        raise ::RSpec::Expectations::ExpectationNotMetError, strict.failure_message(fresh) unless fresh.empty?
      end

      # The end of the suite: the strict-mode report (and the baseline, when
      # writing it), then the CI summary when configured.
      def after_suite(config)
        strict = @strict_mode
        CiSummary.finish unless strict
        return unless strict

        full = full_run?(config)
        config.reporter.message(strict.finish(full_run: full))
        CiSummary.finish
        return unless strict.stale_failure?(full)

        raise VirtualTrainerOptimizer::Error,
              "#{strict.stale_entries.size} stale baseline entr#{strict.stale_entries.size == 1 ? 'y' : 'ies'} " \
              "in #{strict.path} (strict mode stale: :fail)"
      end

      private

      def use_strict_mode(strict, all:)
        @strict_mode = strict
        @strict_all = all
        CiSummary.baselined = ->(finding) { strict.baselined?(finding) }
        strict
      end

      def strict_for(metadata)
        flag = metadata[:vto_strict]
        return nil if flag == false
        return @strict_mode if @strict_all
        return nil unless flag

        @strict_mode || use_strict_mode(StrictMode.new, all: false)
      end

      # No file, line or tag filter, and nothing aborted the run: every
      # example ran.
      def full_run?(config)
        world = ::RSpec.world
        return false if world.respond_to?(:wants_to_quit) && world.wants_to_quit
        return false if world.respond_to?(:rspec_is_quitting) && world.rspec_is_quitting
        return false unless config.filter_manager.inclusions.empty?

        default_files = Dir[File.join(config.default_path, config.pattern)].map { |f| File.expand_path(f) }
        config.files_to_run.map { |f| File.expand_path(f) }.uniq.sort == default_files.uniq.sort
      end
    end
  end
end
