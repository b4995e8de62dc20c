# frozen_string_literal: true

require "socket"

module VirtualTrainerOptimizer
  module Retention
    # The executor's own tables. `vto_retention_runs`: one `run` row per run
    # and one `batch` row per committed batch (written in the batch's
    # transaction, so it exists exactly when the batch did): counts, key
    # range, time the batch's transaction held its locks — never row
    # contents. `vto_retention_control`: the kill switch, and the lock row
    # that keeps runs single on databases without advisory locks.
    class Audit
      RUNS = "vto_retention_runs"
      CONTROL = "vto_retention_control"
      # A lock row whose holder stopped heartbeating this long ago, on another
      # host (on this one a dead pid is enough), is taken over.
      LEASE_SECONDS = 900

      attr_reader :connection

      def initialize(connection)
        @connection = connection
      end

      def self.holder
        "#{Socket.gethostname}:#{Process.pid}"
      end

      def ensure_tables!
        unless connection.table_exists?(RUNS)
          connection.create_table(RUNS) do |t|
            t.string :run_id, limit: 36, null: false
            t.string :kind, limit: 10, null: false
            t.string :status, limit: 20, null: false
            t.string :table_name
            t.string :action, limit: 20
            t.datetime :cutoff
            t.string :key_from
            t.string :key_to
            %i[matched deleted archived anonymized].each { |c| t.bigint c, null: false, default: 0 }
            t.float :lock_ms
            t.string :holder
            t.string :message, limit: 500
            t.datetime :started_at, null: false
            t.datetime :finished_at
          end
          connection.add_index(RUNS, %i[run_id kind])
          connection.add_index(RUNS, %i[kind status])
        end
        return if connection.table_exists?(CONTROL)

        connection.create_table(CONTROL, id: false) do |t|
          t.string :name, limit: 50, null: false
          t.string :holder
          t.string :reason, limit: 500
          t.datetime :heartbeat_at
        end
        connection.add_index(CONTROL, :name, unique: true)
      end

      def start_run(run_id)
        insert(run_id: run_id, kind: "run", status: "running", holder: self.class.holder, started_at: now)
      end

      def finish_run(run_id, summary)
        update("run_id = #{q(run_id)} AND kind = 'run'",
               status: summary.status.to_s, message: summary.reason&.slice(0, 500), finished_at: now,
               matched: summary.matched, deleted: summary.deleted, archived: summary.archived,
               anonymized: summary.anonymized, lock_ms: summary.longest_lock_ms)
      end

      def record_batch(run_id, step, key_from:, key_to:, counts:, lock_ms:, started_at:)
        insert(run_id: run_id, kind: "batch", status: "done", table_name: step.table, action: step.action.to_s,
               cutoff: step.cutoff, key_from: key_from.to_s, key_to: key_to.to_s, lock_ms: lock_ms,
               started_at: started_at, finished_at: now, **counts)
      end

      # Runs left `running` by a process that died (the caller holds the
      # lock, so none of them is alive): marked `interrupted`, their ids
      # returned. Their committed batches stand; the rows they did not reach
      # are still expired, and this run takes them.
      def mark_interrupted(except:)
        where = "kind = 'run' AND status = 'running' AND run_id <> #{q(except)}"
        ids = connection.select_values("SELECT run_id FROM #{qt(RUNS)} WHERE #{where}")
        update(where, status: "interrupted", finished_at: now) unless ids.empty?
        ids
      end

      def runs(limit: 20)
        connection.select_all(
          "SELECT * FROM #{qt(RUNS)} WHERE kind = 'run' ORDER BY id DESC LIMIT #{Integer(limit)}"
        ).to_a
      end

      def batches(run_id)
        connection.select_all(
          "SELECT * FROM #{qt(RUNS)} WHERE run_id = #{q(run_id)} AND kind = 'batch' ORDER BY id"
        ).to_a
      end

      # --- the kill switch --------------------------------------------------

      def disabled_reason
        return nil unless connection.table_exists?(CONTROL)

        row = connection.select_one("SELECT reason FROM #{qt(CONTROL)} WHERE name = 'kill_switch'")
        row && (row["reason"] || "disabled")
      end

      def disable!(reason)
        ensure_tables!
        connection.transaction do
          connection.exec_update("DELETE FROM #{qt(CONTROL)} WHERE name = 'kill_switch'")
          connection.exec_update("INSERT INTO #{qt(CONTROL)} (name, holder, reason, heartbeat_at) VALUES " \
                                 "('kill_switch', #{q(self.class.holder)}, #{q(reason.to_s.slice(0, 500))}, #{q(now)})")
        end
      end

      def enable!
        return unless connection.table_exists?(CONTROL)

        connection.exec_update("DELETE FROM #{qt(CONTROL)} WHERE name = 'kill_switch'")
      end

      # --- the lock row (databases without advisory locks) ------------------

      # Takes the lock row for `holder`, or takes it over from a dead holder.
      # Returns nil on success, else the live holder.
      def acquire_lock_row(holder)
        connection.exec_update("INSERT INTO #{qt(CONTROL)} (name, holder, heartbeat_at) VALUES " \
                               "('lock', #{q(holder)}, #{q(now)})")
        nil
      rescue ActiveRecord::RecordNotUnique
        row = connection.select_one("SELECT holder, heartbeat_at FROM #{qt(CONTROL)} WHERE name = 'lock'")
        return acquire_lock_row(holder) if row.nil?
        return row["holder"] unless stale?(row)

        taken = connection.exec_update("UPDATE #{qt(CONTROL)} SET holder = #{q(holder)}, heartbeat_at = #{q(now)} " \
                                       "WHERE name = 'lock' AND holder = #{q(row['holder'])}")
        taken == 1 ? nil : row["holder"]
      end

      # True while `holder` still holds the row; refreshes its heartbeat.
      def heartbeat(holder)
        connection.exec_update("UPDATE #{qt(CONTROL)} SET heartbeat_at = #{q(now)} " \
                               "WHERE name = 'lock' AND holder = #{q(holder)}") == 1
      end

      def release_lock_row(holder)
        connection.exec_update("DELETE FROM #{qt(CONTROL)} WHERE name = 'lock' AND holder = #{q(holder)}")
      end

      private

      def stale?(row)
        host, pid = row["holder"].to_s.split(":")
        return !alive?(pid.to_i) if host == Socket.gethostname && pid.to_i.positive?

        beat = row["heartbeat_at"]
        beat = connection.lookup_cast_type_from_column(connection.columns(CONTROL).find { |c| c.name == "heartbeat_at" })
                         .deserialize(beat) if beat.is_a?(String)
        beat.nil? || beat < now - LEASE_SECONDS
      end

      def alive?(pid)
        Process.kill(0, pid)
        true
      rescue Errno::ESRCH
        false
      rescue Errno::EPERM
        true
      end

      def insert(values)
        connection.exec_update("INSERT INTO #{qt(RUNS)} (#{values.keys.map { |k| qc(k) }.join(', ')}) " \
                               "VALUES (#{values.values.map { |v| q(v) }.join(', ')})")
      end

      def update(where, values)
        connection.exec_update("UPDATE #{qt(RUNS)} SET #{values.map { |k, v| "#{qc(k)} = #{q(v)}" }.join(', ')} " \
                               "WHERE #{where}")
      end

      def now
        Time.now.utc
      end

      def q(value)
        connection.quote(value)
      end

      def qt(name)
        connection.quote_table_name(name)
      end

      def qc(name)
        connection.quote_column_name(name)
      end
    end
  end
end
