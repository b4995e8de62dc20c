# frozen_string_literal: true

require "json"
require_relative "flusher"

module VirtualTrainerOptimizer
  # The JSON-lines file the report reads (config.jsonl_path). Three line
  # types, each with "v" (format version), "pid" and "at" (Unix time):
  #
  # - "finding": one per finding, as Finding#to_h.
  # - "external": one per request or job that made outbound HTTP calls:
  #   "kind", "name", "elapsed_ms" and its "calls" (host, method, path
  #   template, status, timings, sizes, model, tokens, prompt fingerprint,
  #   call site; never a body, header or key). External::Workload.
  # - "unit": the workload of one unit of work name (a controller action or a
  #   job class) over a period: "count" units, their "queries", "db_ms",
  #   "elapsed_ms" (sums) and "max_elapsed_ms", "view_ms", and its top
  #   "fingerprints" ({fingerprint, count, total_ms, sql}) by time, and
  #   "since" (Unix time of the period's first unit: the report's window),
  #   and the request's "method" or the job's "queue". Requests
  #   are aggregated in memory and written once per FLUSH_SECONDS, so a busy
  #   app writes a few lines per endpoint per period, not one per request.
  #
  # Lines are written with one append per flush (whole lines, O_APPEND), so
  # processes sharing the file (Puma workers, Sidekiq) never interleave within
  # a line. A background thread flushes a quiet process; at exit, what is
  # left is written.
  module JsonlSink
    VERSION = 1
    FLUSH_SECONDS = 1.0
    MAX_UNITS = 500
    MAX_FINGERPRINTS = 50

    @lock = Mutex.new
    @lines = []
    @units = {}
    @path = nil
    @pid = Process.pid
    @flushed_at = 0.0
    @flusher = nil

    class << self
      def record(result, path)
        at = Time.now.to_f.round(3)
        finding_lines = result.findings.map do |f|
          JSON.generate({ v: VERSION, type: "finding", pid: @pid, at: at }.merge(f.to_h))
        end
        external = External::Workload.scope_of(result)
        finding_lines << JSON.generate({ v: VERSION, type: "external", pid: @pid, at: at }.merge(external)) if external
        @lock.synchronize do
          flush_locked if @path && path != @path
          @path = path
          @lines.concat(finding_lines)
          aggregate(@units, result) unless result.kind == :scan
          start_flusher
          flush_locked if Process.clock_gettime(Process::CLOCK_MONOTONIC) - @flushed_at >= FLUSH_SECONDS
        end
      end

      # Writes every buffered line and aggregate now.
      def flush
        @lock.synchronize { flush_locked }
      end

      # A forked child drops its copy of the parent's buffer (the parent writes it).
      def after_fork!
        @lock = Mutex.new
        @lines = []
        @units = {}
        @pid = Process.pid
        @flusher = nil
      end

      # Adds a finished unit of work to `units` ([kind, name] => totals and
      # fingerprint => [count, ms, sql]), bounded to MAX_UNITS names and
      # MAX_FINGERPRINTS * 4 shapes each. RedisSink aggregates with it too, so
      # both sinks count alike.
      def aggregate(units, result)
        key = [result.kind, result.name]
        unit = units[key]
        unless unit
          return if units.size >= MAX_UNITS

          unit = units[key] = { count: 0, queries: 0, db_ms: 0.0, elapsed_ms: 0.0, max_elapsed_ms: 0.0, view_ms: 0.0,
                                fingerprints: {}, since: (Time.now.to_f - (result.elapsed_ms / 1000.0)).round(3),
                                detail: result.detail }
        end
        unit[:count] += 1
        unit[:queries] += result.queries
        unit[:db_ms] += result.db_ms
        unit[:elapsed_ms] += result.elapsed_ms
        unit[:max_elapsed_ms] = result.elapsed_ms if result.elapsed_ms > unit[:max_elapsed_ms]
        unit[:view_ms] += result.view_ms.to_f
        fingerprints = unit[:fingerprints]
        result.totals.each do |fingerprint, count, ms, sql|
          entry = fingerprints[fingerprint]
          if entry
            entry[0] += count
            entry[1] += ms
          elsif fingerprints.size < MAX_FINGERPRINTS * 4
            fingerprints[fingerprint] = [count, ms, sql]
          end
        end
      end

      private

      def unit_lines
        at = Time.now.to_f.round(3)
        @units.map do |(kind, name), u|
          top = u[:fingerprints].sort_by { |_, (_, ms)| -ms }.first(MAX_FINGERPRINTS)
          JSON.generate(
            v: VERSION, type: "unit", pid: @pid, at: at, since: u[:since], kind: kind, name: name, count: u[:count],
            queries: u[:queries],
            db_ms: u[:db_ms].round(3), elapsed_ms: u[:elapsed_ms].round(3), max_elapsed_ms: u[:max_elapsed_ms].round(3),
            view_ms: u[:view_ms].round(3), (kind == :request ? :method : :queue) => u[:detail],
            fingerprints: top.map { |fp, (count, ms, sql)| { fingerprint: fp, count: count, total_ms: ms.round(3), sql: sql } }
          )
        end
      end

      def flush_locked
        @flushed_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        return if @path.nil? || (@lines.empty? && @units.empty?)

        text = (@lines + unit_lines).join("\n") << "\n"
        @lines = []
        @units = {}
        require "fileutils"
        FileUtils.mkdir_p(File.dirname(@path))
        File.open(@path, File::WRONLY | File::APPEND | File::CREAT, 0o644) { |f| f.syswrite(text) }
      end

      def start_flusher
        return if @flusher&.alive?

        @flusher = Flusher.start("virtual_trainer_optimizer-jsonl", FLUSH_SECONDS) { flush }
      end
    end
  end
end

at_exit { VirtualTrainerOptimizer::JsonlSink.flush }
