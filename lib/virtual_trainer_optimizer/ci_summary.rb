# frozen_string_literal: true

require "json"
require "fileutils"

module VirtualTrainerOptimizer
  # The end-of-run summary of a test suite or CI job (config.ci_summary):
  # every unit of work's findings are collected as they are delivered, and at
  # the end the core renders totals per kind and the top offenders as text,
  # GitHub Actions annotations, JSON or SARIF. Normalized SQL only.
  module CiSummary
    # Findings kept for the summary; past this, findings are counted, not kept.
    MAX_ENTRIES = 50_000

    @lock = Mutex.new
    @entries = []
    @dropped = 0
    @finished = false
    @at_exit = false

    class << self
      # Tells whether a finding is parked in a baseline (strict mode sets it).
      attr_accessor :baselined

      def active?
        setting = VirtualTrainerOptimizer.config.ci_summary
        setting == true || (setting == :ci && !ENV["CI"].to_s.empty? && ENV["CI"] != "false")
      end

      # Called for each finished unit of work with its own findings.
      def record(findings)
        return if findings.empty?

        rows = findings.map { |f| row(f) }
        @lock.synchronize do
          room = MAX_ENTRIES - @entries.size
          @entries.concat(rows.first([room, 0].max))
          @dropped += [rows.size - room, 0].max
        end
      end

      # Prints and writes the summary once per process (later calls do
      # nothing); returns what it printed, or nil when the summary is off.
      def finish(out: $stdout)
        return unless active?

        entries = @lock.synchronize do
          return if @finished || @pid_at_start && @pid_at_start != Process.pid

          @finished = true
          @entries.dup
        end
        emit(entries, out)
      rescue StandardError => e
        # Never breaks the run's own result, but says so where CI shows it.
        VirtualTrainerOptimizer.internal_error(e)
        out.puts("virtual_trainer_optimizer: the CI summary failed: #{e.class}: #{e.message}")
        nil
      end

      # For processes without a test-framework hook of ours: print at exit.
      # (Minitest runs its tests in an at_exit hook of its own, which runs
      # after one registered later, so its hook does the printing instead.)
      def install_at_exit
        return if @at_exit

        @at_exit = true
        @pid_at_start = Process.pid
        at_exit { finish unless @framework_hook }
      end

      # The test framework calls `finish` at the end of its run.
      def framework_hook!
        @framework_hook = true
      end

      # Forgets everything (tests; a forked child).
      def reset!
        @lock.synchronize do
          @entries = []
          @dropped = 0
          @finished = false
        end
      end

      # The input the core summarizes, as JSON.
      def input_json(entries, top: VirtualTrainerOptimizer.config.ci_summary_top)
        JSON.generate({ tool_version: VERSION, top: top, findings: entries })
      end

      private

      def row(finding)
        { kind: finding.kind.to_s, fingerprint: finding.fingerprint, count: finding.count, sql: finding.sql,
          location: finding.location, suggestion: finding.suggestion, priority: finding.priority.to_s,
          total_ms: finding.total_ms.to_f, scope: finding.scope_name,
          baselined: baselined&.call(finding) ? true : false }
      end

      def emit(entries, out)
        config = VirtualTrainerOptimizer.config
        json = input_json(entries)
        printed = +""
        config.ci_summary_formats.each do |format|
          part = render(json, format, config)
          printed << part
          out.write(part)
        end
        out.flush
        printed
      end

      # What one format prints (the file formats are written to ci_summary_dir).
      def render(json, format, config)
        rendered = Native.ci_summary(json, format.to_s)
        case format
        when :text
          rendered += "\n(#{@dropped} more findings not kept: the summary keeps #{MAX_ENTRIES})" if @dropped.positive?
          "#{rendered}\n"
        when :github then rendered.empty? ? "" : "#{rendered}\n"
        else
          path = File.join(File.expand_path(config.ci_summary_dir, config.app_root_path), "findings.#{format}")
          FileUtils.mkdir_p(File.dirname(path))
          File.write(path, rendered)
          "virtual_trainer_optimizer: #{format.to_s.upcase} summary written to #{path}\n"
        end
      end
    end
  end
end
