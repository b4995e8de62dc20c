# frozen_string_literal: true

require "securerandom"
require_relative "audit"
require_relative "dialect"
require_relative "run_summary"
require_relative "statements"

module VirtualTrainerOptimizer
  module Retention
    # Runs the core's cleanup plan (children before parents) in batches.
    # Each batch is one transaction holding the action and its audit row: a
    # run killed at any point leaves whole batches done and the current one
    # rolled back, and the next run takes the rows still expired.
    class Runner
      DEFAULTS = { statement_timeout: 30, lock_timeout: 5, pause: 0.1, max_rows: nil, max_runtime: nil }.freeze

      # The run lost its lock (another runner took over a stale lock row).
      class LockLost < StandardError; end
      # Archive and delete counts of a batch disagree.
      class Mismatch < StandardError; end

      def initialize(connection:, dry_run:, tables: nil, now: Time.now, progress: nil, kill_switch: nil, hash_key: nil,
                     **limits)
        unknown = limits.keys - DEFAULTS.keys
        raise ArgumentError, "unknown option#{'s' if unknown.size > 1} #{unknown.map(&:inspect).join(', ')}" if unknown.any?

        @connection = connection
        @dry_run = dry_run ? true : false
        @tables = tables&.map(&:to_s)
        @now = now.utc
        @progress = progress
        @kill_switch = kill_switch
        @hash_key = hash_key
        @limits = DEFAULTS.merge(limits)
        validate_limits
      end

      def call
        if !@dry_run && @connection.transaction_open?
          raise ArgumentError, "Retention.run(dry_run: false) must not run inside a transaction: each batch commits " \
                               "on its own (in tests, turn transactional tests off for it)"
        end

        @summary = RunSummary.new(run_id: SecureRandom.uuid, dry_run: @dry_run, started_at: Time.now.utc)
        report = Retention.report(@connection)
        steps = select_steps(report["plan"])
        @blocked = invalid_reasons(report["findings"])
        @audit = Audit.new(@connection)
        @dialect = Dialect.for(@connection, @audit)
        @dry_run ? dry_run(steps) : run(steps)
        @summary.finished_at = Time.now.utc
        @summary
      end

      private

      def select_steps(plan)
        return plan unless @tables

        unknown = @tables - plan.map { |s| s["table"] }
        raise ArgumentError, "no age-based retention policy for #{unknown.join(', ')}" if unknown.any?

        plan.select { |s| @tables.include?(s["table"]) }
      end

      def invalid_reasons(findings)
        findings.select { |f| f["kind"] == "invalid_policy" }.group_by { |f| f["table"] }
                .transform_values { |fs| fs.map { |f| f["reason"] }.join(" ") }
      end

      def dry_run(steps)
        reason = kill_reason
        @summary.reason = "the kill switch is on (#{reason}): a run would stop before its first batch" if reason
        steps.each do |step|
          table = table_summary(step)
          next unless runnable?(step, table)

          statements = Statements.new(@connection, step, table.cutoff, @dialect)
          count, low, high = bounds(statements, table)
          table.status = :dry_run
          next if count.zero?

          limit = [step["batch_size"], @limits[:max_rows]].compact.min
          first_end = @connection.select_value(statements.batch_end(nil, low, high, limit))
          table.sql.concat(action_sql(step, statements, statements.batch(nil, low, first_end)))
          table.reason = "would create #{step['archive_table']} with the columns of #{step['table']}" if create_archive?(step)
        end
      end

      def run(steps)
        key = hash_key(steps)
        ensure_audit_tables
        if (reason = kill_reason)
          return stop_all(steps, "kill switch: #{reason}")
        end

        @holder = "#{Audit.holder}:#{@summary.run_id}"
        if (holder = @dialect.acquire_lock(@holder))
          @summary.status = :locked
          @summary.reason = "another run holds #{@dialect.lock_kind} (#{holder}); nothing ran"
          return
        end
        begin
          @audit.start_run(@summary.run_id)
          @summary.interrupted_runs = @audit.mark_interrupted(except: @summary.run_id)
          @started = monotonic
          @dialect.prepare_hashing(key) if key
          @dialect.with_timeouts(@limits[:statement_timeout], @limits[:lock_timeout]) { run_steps(steps) }
          conclude
        rescue LockLost => e
          @summary.status = :failed
          @summary.reason = e.message
        rescue StandardError => e
          @summary.status = :failed
          @summary.reason = "#{e.class}: #{e.message.lines.first.to_s.strip[0, 300]}"
          raise
        ensure
          # The lock goes back whatever happens to the bookkeeping before it.
          begin
            @dialect.finish_hashing if key
            @audit.finish_run(@summary.run_id, @summary)
          ensure
            @dialect.release_lock
          end
        end
      end

      # A table that failed, or whose policy is invalid, fails the run: its
      # data is not being cleaned up.
      def conclude
        return unless @summary.status == :running

        failed = @summary.tables.select { |t| t.status == :failed }.map(&:table)
        invalid = @summary.tables.select { |t| t.status == :skipped && t.reason.start_with?("invalid policy") }.map(&:table)
        if failed.empty? && invalid.empty?
          @summary.status = :completed
        else
          @summary.status = :failed
          @summary.reason = [("failed: #{failed.join(', ')}" if failed.any?),
                             ("invalid policy: #{invalid.join(', ')}" if invalid.any?)].compact.join("; ")
        end
      end

      def run_steps(steps)
        failed = []
        steps.each_with_index do |step, i|
          table = table_summary(step)
          next unless runnable?(step, table)

          if (blocking = step["depends_on"] & failed).any?
            table.status = :skipped
            table.reason = "not run: #{blocking.join(', ')} failed, and its rows reference this table"
            next
          end
          begin
            run_step(step, table)
          rescue LockLost
            raise
          rescue StandardError => e
            table.status = :failed
            table.reason = "#{e.class}: #{e.message.lines.first.to_s.strip[0, 300]}"
            failed << step["table"]
          end
          next unless @summary.status == :stopped

          steps.drop(i + 1).each { |rest| skip(table_summary(rest), "not run: #{@summary.reason}") }
          break
        end
      end

      def run_step(step, table)
        statements = Statements.new(@connection, step, table.cutoff, @dialect)
        count, low, high = bounds(statements, table)
        return table.status = :done if count.zero?

        create_archive(step, table) if create_archive?(step)
        columns = @connection.columns(step["table"]).map(&:name) if step["action"] == "archive"
        from = nil
        loop do
          if (reason = stop_reason)
            @summary.status = :stopped
            @summary.reason = reason
            table.status = :partial
            return
          end
          limit = [step["batch_size"], remaining_rows].compact.min
          batch_end = @connection.select_value(statements.batch_end(from, low, high, limit))
          break if batch_end.nil?

          condition = statements.batch(from, low, batch_end)
          table.sql.concat(action_sql(step, statements, condition)) if table.sql.empty?
          counts, lock_ms = run_batch(step, table, statements, condition, columns, from || low, batch_end)
          record(table, counts, lock_ms)
          from = batch_end
          @progress&.call(table)
          sleep(@limits[:pause]) if @limits[:pause].positive?
        end
        table.status = :done
      end

      # One transaction: the action and its audit row.
      def run_batch(step, table, statements, condition, columns, key_from, key_to)
        started_at = Time.now.utc
        t0 = monotonic
        counts = nil
        @dialect.guard_batch(@limits[:statement_timeout]) do
          @connection.transaction(requires_new: true) do
            raise LockLost, "the run lost its lock row to another runner" unless @dialect.still_locked?

            counts = act(step, statements, condition, columns)
            @audit.record_batch(@summary.run_id, table, key_from: key_from, key_to: key_to, counts: counts,
                                                        lock_ms: (monotonic - t0) * 1000, started_at: started_at)
          end
        end
        [counts, (monotonic - t0) * 1000]
      end

      def act(step, statements, condition, columns)
        case step["action"]
        when "delete"
          { deleted: @connection.exec_update(statements.delete(condition)) }
        when "archive"
          archived, deleted = @dialect.move_rows(step["table"], step["archive_table"], columns, condition)
          if archived != deleted
            raise Mismatch, "#{step['table']}: #{archived} rows archived but #{deleted} deleted; batch rolled back"
          end

          { archived: archived, deleted: deleted }
        else
          { anonymized: @connection.exec_update(statements.anonymize(condition)) }
        end
      end

      def action_sql(step, statements, condition)
        case step["action"]
        when "delete" then [statements.delete(condition)]
        when "archive"
          columns = @connection.columns(step["table"]).map(&:name)
          @dialect.move_sql(step["table"], step["archive_table"], columns, condition)
        else [statements.anonymize(condition)]
        end
      end

      def record(table, counts, lock_ms)
        table.batches += 1
        table.deleted += counts.fetch(:deleted, 0)
        table.archived += counts.fetch(:archived, 0)
        table.anonymized += counts.fetch(:anonymized, 0)
        table.longest_lock_ms = [table.longest_lock_ms, lock_ms].max
        @processed = processed + table_processed(counts)
      end

      def table_processed(counts)
        counts[:anonymized] || counts[:deleted] || 0
      end

      def processed
        @processed || 0
      end

      def bounds(statements, table)
        count, low, high = @connection.select_rows(statements.bounds).first
        table.matched = count.to_i
        table.key_from = low
        table.key_to = high
        [count.to_i, low, high]
      end

      def table_summary(step)
        cutoff = @now - Integer(step["keep_seconds"])
        TableSummary.new(table: step["table"], action: step["action"], cutoff: cutoff,
                         archive_table: step["archive_table"]).tap { |t| @summary.tables << t }
      end

      def runnable?(step, table)
        return true if step["runnable"]

        skip(table, "invalid policy: #{@blocked.fetch(step['table'], 'see Retention.check')}")
        false
      end

      def skip(table, reason)
        table.status = :skipped
        table.reason = reason
      end

      def stop_all(steps, reason)
        @summary.status = :stopped
        @summary.reason = reason
        steps.each { |step| skip(table_summary(step), "not run: #{reason}") }
      end

      def create_archive?(step)
        step["action"] == "archive" && step["create_archive_table"] && !@connection.table_exists?(step["archive_table"])
      end

      # The archive table: the table's columns and types, without defaults,
      # indexes or constraints (rows keep their values, whatever the table
      # does later).
      def create_archive(step, table)
        columns = @connection.columns(step["table"])
        @connection.create_table(step["archive_table"], id: false) do |t|
          columns.each do |c|
            type = c.sql_type
            type = "#{type}[]" if c.respond_to?(:array?) && c.array? && !type.end_with?("]")
            t.column c.name, type
          end
        end
        table.created_archive_table = true
      end

      def stop_reason
        return "max_rows (#{@limits[:max_rows]}) reached" if @limits[:max_rows] && processed >= @limits[:max_rows]
        if @limits[:max_runtime] && monotonic - @started >= @limits[:max_runtime]
          return "max_runtime (#{@limits[:max_runtime]} s) reached"
        end

        reason = kill_reason
        "kill switch: #{reason}" if reason
      end

      def remaining_rows
        @limits[:max_rows] && (@limits[:max_rows] - processed)
      end

      # The kill switch: the `kill_switch:` callable, VTO_RETENTION_DISABLED,
      # or Retention.disable! (a row other processes can set mid-run).
      def kill_reason
        custom = @kill_switch&.call
        return custom.is_a?(String) ? custom : "kill_switch returned #{custom.inspect}" if custom

        env = ENV["VTO_RETENTION_DISABLED"].to_s
        return "VTO_RETENTION_DISABLED=#{env}" unless env.empty? || %w[0 false no].include?(env.downcase)

        @audit.disabled_reason
      end

      # The key of hashed columns: `hash_key:`, else derived from the Rails
      # app's secret_key_base. Nil when no step hashes.
      def hash_key(steps)
        hashing = steps.select { |s| s["runnable"] && s.fetch("hashed_columns", []).any? }.map { |s| s["table"] }
        return nil if hashing.empty?

        key = @hash_key || Retention.default_hash_key
        return key.to_s unless key.to_s.empty?

        raise ArgumentError, "#{hashing.join(', ')}: hashed columns need a secret: pass hash_key: " \
                             "(or run in a Rails app, whose secret_key_base it derives one from)"
      end

      def ensure_audit_tables
        @audit.ensure_tables!
      rescue ActiveRecord::StatementInvalid
        # Another runner created them at the same moment.
        raise unless @connection.table_exists?(Audit::RUNS) && @connection.table_exists?(Audit::CONTROL)
      end

      def validate_limits
        { statement_timeout: false, lock_timeout: false, pause: true, max_rows: false, max_runtime: false }.each do |name, zero_ok|
          value = @limits[name]
          next if value.nil? && %i[max_rows max_runtime].include?(name)
          next if value.is_a?(Numeric) && (value.positive? || (zero_ok && value.zero?))

          raise ArgumentError, "#{name} must be a #{zero_ok ? 'non-negative' : 'positive'} number, got #{value.inspect}"
        end
        return if @limits[:max_rows].nil? || @limits[:max_rows].is_a?(Integer)

        raise ArgumentError, "max_rows must be an Integer, got #{@limits[:max_rows].inspect}"
      end

      def monotonic
        Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end
    end
  end
end
