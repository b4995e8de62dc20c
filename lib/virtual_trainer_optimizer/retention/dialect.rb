# frozen_string_literal: true

require "digest"
require "zlib"

module VirtualTrainerOptimizer
  module Retention
    # Where the databases differ for the executor: how a single runner is
    # ensured, how statement and lock timeouts are set (for the run's
    # connection, restored afterwards), and how rows are moved to the archive.
    module Dialect
      def self.for(connection, audit)
        case Introspection.dialect_of(connection)
        when :postgresql then Postgres.new(connection, audit)
        when :mysql then Mysql.new(connection, audit)
        when :sqlite then Sqlite.new(connection, audit)
        else Base.new(connection, audit)
        end
      end

      class Base
        attr_reader :connection

        def initialize(connection, audit)
          @connection = connection
          @audit = audit
        end

        # How a single runner is ensured, for messages and docs.
        def lock_kind
          "a lock row in #{Audit::CONTROL}"
        end

        # Takes the run lock; nil on success, else who holds it.
        def acquire_lock(holder)
          @holder = holder
          @audit.acquire_lock_row(holder)
        end

        # Called in each batch's transaction: false when the lock was lost.
        def still_locked?
          @audit.heartbeat(@holder)
        end

        def release_lock
          @audit.release_lock_row(@holder)
        end

        def with_timeouts(_statement_seconds, _lock_seconds)
          yield
        end

        # Around each batch's transaction.
        def guard_batch(_statement_seconds)
          yield
        end

        # Hashed anonymization: the key is handed to the database outside
        # ActiveRecord (whose log would show it), and statements refer to it.
        def prepare_hashing(_key)
          raise ArgumentError, "hashed columns are not supported on #{connection.adapter_name}"
        end

        def finish_hashing; end

        # `vto:` and the SHA-256 of "key:value", in hex.
        def hash_expression(_quoted_column)
          raise ArgumentError, "hashed columns are not supported on #{connection.adapter_name}"
        end

        # Copies the rows `condition` selects into `archive` and deletes them,
        # in the caller's transaction: [archived, deleted]. The counts must
        # agree, or the batch is rolled back.
        def move_rows(table, archive, columns, condition)
          list = columns.map { |c| connection.quote_column_name(c) }.join(", ")
          archived = connection.exec_update(
            "INSERT INTO #{connection.quote_table_name(archive)} (#{list}) " \
            "SELECT #{list} FROM #{connection.quote_table_name(table)} WHERE #{condition}"
          )
          deleted = connection.exec_update("DELETE FROM #{connection.quote_table_name(table)} WHERE #{condition}")
          [archived, deleted]
        end

        def move_sql(table, archive, columns, condition)
          list = columns.map { |c| connection.quote_column_name(c) }.join(", ")
          ["INSERT INTO #{connection.quote_table_name(archive)} (#{list}) " \
           "SELECT #{list} FROM #{connection.quote_table_name(table)} WHERE #{condition}",
           "DELETE FROM #{connection.quote_table_name(table)} WHERE #{condition}"]
        end
      end

      # A session advisory lock (released by the server if the process dies),
      # session statement_timeout / lock_timeout, and moves in one statement.
      class Postgres < Base
        LOCK_KEY = Zlib.crc32("virtual_trainer_optimizer.retention") - (2**31)

        def lock_kind
          "a PostgreSQL advisory lock"
        end

        def acquire_lock(holder)
          @holder = holder
          return nil if ActiveModel::Type::Boolean.new.cast(connection.select_value("SELECT pg_try_advisory_lock(#{LOCK_KEY})"))

          connection.select_value(
            "SELECT a.application_name || ' pid ' || a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " \
            "WHERE l.locktype = 'advisory' AND l.objid = #{LOCK_KEY & 0xffffffff} AND l.granted LIMIT 1"
          ) || "another session"
        end

        def still_locked?
          true
        end

        def release_lock
          connection.select_value("SELECT pg_advisory_unlock(#{LOCK_KEY})")
        end

        def with_timeouts(statement_seconds, lock_seconds)
          saved = %w[statement_timeout lock_timeout].to_h { |s| [s, connection.select_value("SHOW #{s}")] }
          connection.execute("SET statement_timeout = #{Integer(statement_seconds * 1000)}")
          connection.execute("SET lock_timeout = #{Integer(lock_seconds * 1000)}")
          yield
        ensure
          saved&.each { |name, value| connection.execute("SET #{name} = #{connection.quote(value)}") }
        end

        def prepare_hashing(key)
          connection.raw_connection.exec_params("SELECT set_config('vto.hash_key', $1, false)", [key])
        end

        def finish_hashing
          connection.raw_connection.exec("SELECT set_config('vto.hash_key', '', false)")
        end

        def hash_expression(quoted_column)
          "'vto:' || encode(sha256(convert_to(current_setting('vto.hash_key') || ':' || #{quoted_column}::text, " \
            "'UTF8')), 'hex')"
        end

        # The delete returns the rows the insert writes: one statement, so
        # nothing can come between them.
        def move_rows(table, archive, columns, condition)
          moved = connection.exec_update(move_sql(table, archive, columns, condition).first)
          [moved, moved]
        end

        def move_sql(table, archive, columns, condition)
          list = columns.map { |c| connection.quote_column_name(c) }.join(", ")
          ["WITH moved AS (DELETE FROM #{connection.quote_table_name(table)} WHERE #{condition} RETURNING #{list}) " \
           "INSERT INTO #{connection.quote_table_name(archive)} (#{list}) SELECT #{list} FROM moved"]
        end
      end

      # A named lock (GET_LOCK: server-wide, so named after the database, and
      # released by the server if the process dies); innodb_lock_wait_timeout
      # and lock_wait_timeout; MariaDB's max_statement_time (MySQL's
      # max_execution_time covers SELECT only). INSERT ... SELECT locks the
      # rows it reads, so the DELETE after it removes exactly those.
      class Mysql < Base
        def lock_kind
          "a MySQL named lock (GET_LOCK)"
        end

        def acquire_lock(holder)
          @holder = holder
          return nil if connection.select_value("SELECT GET_LOCK(#{connection.quote(lock_name)}, 0)").to_i == 1

          "connection #{connection.select_value("SELECT IS_USED_LOCK(#{connection.quote(lock_name)})")}"
        end

        def still_locked?
          true
        end

        def release_lock
          connection.select_value("SELECT RELEASE_LOCK(#{connection.quote(lock_name)})")
        end

        def with_timeouts(statement_seconds, lock_seconds)
          wait = [lock_seconds.ceil, 1].max
          settings = { "innodb_lock_wait_timeout" => wait, "lock_wait_timeout" => wait }
          if mariadb?
            settings["max_statement_time"] = statement_seconds.to_f
          else
            settings["max_execution_time"] = Integer(statement_seconds * 1000)
          end
          saved = settings.keys.to_h { |s| [s, connection.select_value("SELECT @@SESSION.#{s}")] }
          settings.each { |name, value| connection.execute("SET SESSION #{name} = #{value}") }
          yield
        ensure
          saved&.each { |name, value| connection.execute("SET SESSION #{name} = #{connection.quote(value)}") }
        end

        def prepare_hashing(key)
          raw = connection.raw_connection
          raw.query("SET @vto_hash_key = '#{raw.escape(key)}'")
        end

        def finish_hashing
          connection.raw_connection.query("SET @vto_hash_key = NULL")
        end

        def hash_expression(quoted_column)
          "CONCAT('vto:', SHA2(CONCAT(@vto_hash_key, ':', #{quoted_column}), 256))"
        end

        private

        def mariadb?
          connection.select_value("SELECT VERSION()").to_s.include?("MariaDB")
        end

        def lock_name
          "vto_retention:#{connection.current_database}"[0, 64]
        end
      end

      # The lock row; busy_timeout for lock waits; a watchdog interrupts a
      # batch that runs past the statement timeout (SQLite rolls the
      # transaction back).
      class Sqlite < Base
        def with_timeouts(_statement_seconds, lock_seconds)
          raw = connection.raw_connection
          raw.busy_timeout = Integer(lock_seconds * 1000) if raw.respond_to?(:busy_timeout=)
          yield
        ensure
          timeout = connection.instance_variable_get(:@config)&.dig(:timeout)
          raw.busy_timeout = Integer(timeout || 5000) if raw.respond_to?(:busy_timeout=)
        end

        # A function of this connection, with the key in Ruby.
        def prepare_hashing(key)
          connection.raw_connection.create_function("vto_hash", 1) do |function, value|
            function.result = value.nil? ? nil : "vto:#{Digest::SHA256.hexdigest("#{key}:#{value}")}"
          end
        end

        def hash_expression(quoted_column)
          "vto_hash(#{quoted_column})"
        end

        def guard_batch(statement_seconds)
          raw = connection.raw_connection
          return yield unless raw.respond_to?(:interrupt)

          lock = Mutex.new
          finished = false
          watchdog = Thread.new do
            sleep statement_seconds
            lock.synchronize { raw.interrupt unless finished }
          end
          begin
            yield
          ensure
            lock.synchronize { finished = true }
            watchdog.kill
            watchdog.join
          end
        end
      end
    end
  end
end
