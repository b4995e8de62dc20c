# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Retention
    # What one plan step did (or, in a dry run, would do) to its table.
    # `matched`: expired rows when the step started; `sql`: the statements of
    # its first batch, as they run; `status`: :dry_run, :done, :partial
    # (stopped by a limit or the kill switch), :failed, :skipped.
    class TableSummary
      attr_reader :table, :action, :cutoff, :archive_table, :sql
      attr_accessor :matched, :deleted, :archived, :anonymized, :batches, :status, :reason, :key_from, :key_to,
                    :longest_lock_ms, :created_archive_table

      def initialize(table:, action:, cutoff:, archive_table: nil)
        @table = table
        @action = action.to_sym
        @cutoff = cutoff
        @archive_table = archive_table
        @matched = @deleted = @archived = @anonymized = @batches = 0
        @longest_lock_ms = 0.0
        @sql = []
        @status = :pending
        @created_archive_table = false
      end

      # Rows the step changed (a moved row counts once).
      def processed
        action == :anonymize ? anonymized : deleted
      end

      def to_h
        { table: table, action: action, cutoff: cutoff&.utc&.iso8601, status: status, reason: reason,
          matched: matched, deleted: deleted, archived: archived, anonymized: anonymized, batches: batches,
          key_from: key_from, key_to: key_to, longest_lock_ms: longest_lock_ms.round(2), archive_table: archive_table,
          created_archive_table: created_archive_table, sql: sql }
      end

      def to_s
        counts = { matched: matched, deleted: deleted, archived: archived, anonymized: anonymized }
                 .filter_map { |k, v| "#{k} #{v}" if k == :matched || v.positive? }.join(", ")
        "#{table} (#{action}, before #{cutoff&.utc&.iso8601}): #{status}, #{counts}" \
          "#{", #{batches} batches, longest lock #{longest_lock_ms.round(1)} ms" if batches.positive?}" \
          "#{" — #{reason}" if reason}"
      end
    end

    # The outcome of Retention.run: one TableSummary per step, in plan order,
    # and how the run ended (`status`: :dry_run, :completed, :stopped (a limit
    # or the kill switch, `reason` says which), :failed (a step failed),
    # :locked (another runner holds the lock; nothing ran)).
    class RunSummary
      attr_reader :run_id, :tables, :started_at
      attr_accessor :status, :reason, :finished_at, :interrupted_runs

      def initialize(run_id:, dry_run:, started_at:)
        @run_id = run_id
        @dry_run = dry_run
        @started_at = started_at
        @tables = []
        @status = dry_run ? :dry_run : :running
        @interrupted_runs = []
      end

      def dry_run?
        @dry_run
      end

      # The summary of one table (`summary["api_request_logs"]`); with several
      # policies on a table, the first.
      def [](table)
        tables.find { |t| t.table == table.to_s }
      end

      %i[matched deleted archived anonymized batches].each do |count|
        define_method(count) { tables.sum(&count) }
      end

      def longest_lock_ms
        tables.map(&:longest_lock_ms).max || 0.0
      end

      def to_h
        { run_id: run_id, dry_run: dry_run?, status: status, reason: reason, started_at: started_at.utc.iso8601,
          finished_at: finished_at&.utc&.iso8601, interrupted_runs: interrupted_runs, matched: matched,
          deleted: deleted, archived: archived, anonymized: anonymized, longest_lock_ms: longest_lock_ms.round(2),
          tables: tables.map(&:to_h) }
      end

      def to_s
        head = "retention #{dry_run? ? 'dry run' : 'run'} #{run_id}: #{status}#{" (#{reason})" if reason}"
        ([head] + tables.map { |t| "  #{t}" }).join("\n")
      end

      def inspect
        "#<#{self.class.name} #{run_id} #{status} matched=#{matched} deleted=#{deleted} archived=#{archived} " \
          "anonymized=#{anonymized}>"
      end
    end
  end
end
