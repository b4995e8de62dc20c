# frozen_string_literal: true

# Deleting a million expired rows (out of 1.1 million) three ways, on a real
# database, refilled between them:
#   - Retention.run: primary-key-range batches of 1,000, each one transaction
#     with its audit row (pause 0);
#   - Rails' own batching, `where(...).in_batches(of: 1000).delete_all`
#     (SELECT the ids, then DELETE ... WHERE id IN (...), autocommit);
#   - one `DELETE ... WHERE created_at < cutoff` (`where(...).delete_all`).
# Reports rows/s and the longest time one transaction held its row locks.
#
#   ruby -Ilib bench/retention.rb                    (after `rake compile`)
#   BENCH_DB=postgresql,sqlite,mysql ROWS=1000000 ruby -Ilib bench/retention.rb

require "active_record"
require "fileutils"
require "virtual_trainer_optimizer"
require "virtual_trainer_optimizer/retention"

ROWS = Integer(ENV.fetch("ROWS", "1000000"))
FRESH = ROWS / 10
DATABASES = ENV.fetch("BENCH_DB", "postgresql,sqlite").split(",")
TMP = File.expand_path("../tmp", __dir__)
KEEP = 90 * 86_400

class BenchRequestLog < ActiveRecord::Base
  self.table_name = "bench_request_logs"
end

def connect(db)
  case db
  when "postgresql"
    ActiveRecord::Base.establish_connection(adapter: "postgresql", host: "127.0.0.1", username: "postgres",
                                            database: "postgres")
    ActiveRecord::Base.connection.execute("DROP DATABASE IF EXISTS vto_bench_retention")
    ActiveRecord::Base.connection.execute("CREATE DATABASE vto_bench_retention")
    ActiveRecord::Base.establish_connection(adapter: "postgresql", host: "127.0.0.1", username: "postgres",
                                            database: "vto_bench_retention")
  when "sqlite"
    FileUtils.mkdir_p(TMP)
    path = File.join(TMP, "bench_retention.sqlite3")
    FileUtils.rm_f(Dir["#{path}*"])
    ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: path, timeout: 5000)
  when "mysql"
    ActiveRecord::Base.establish_connection(adapter: "mysql2", host: "127.0.0.1", username: "root")
    ActiveRecord::Base.connection.execute("DROP DATABASE IF EXISTS vto_bench_retention")
    ActiveRecord::Base.connection.execute("CREATE DATABASE vto_bench_retention")
    ActiveRecord::Base.establish_connection(adapter: "mysql2", host: "127.0.0.1", username: "root",
                                            database: "vto_bench_retention")
  else abort "BENCH_DB: postgresql, sqlite or mysql, got #{db.inspect}"
  end
  ActiveRecord::Base.connection
end

# ROWS expired rows, then FRESH recent ones; ids ascend with time, as in an
# append-only log.
def fill(connection, db, now)
  %w[bench_request_logs vto_retention_runs vto_retention_control].each do |t|
    connection.drop_table(t) if connection.table_exists?(t)
  end
  connection.create_table(:bench_request_logs) do |t|
    t.string :path, null: false
    t.integer :status
    t.datetime :created_at, null: false
  end
  connection.add_index(:bench_request_logs, :created_at)
  total = ROWS + FRESH
  start = connection.quote(now - KEEP - ROWS - 86_400)
  case db
  when "postgresql"
    connection.execute("INSERT INTO bench_request_logs (path, status, created_at) SELECT '/api/v1/workouts/' || n, 200, " \
                       "#{start}::timestamp + n * interval '1 second' + " \
                       "(CASE WHEN n > #{ROWS} THEN interval '#{KEEP + 172_800} seconds' ELSE interval '0' END) " \
                       "FROM generate_series(1, #{total}) n")
    connection.execute("ANALYZE bench_request_logs")
  when "sqlite"
    connection.execute("INSERT INTO bench_request_logs (path, status, created_at) WITH RECURSIVE s(n) AS " \
                       "(SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < #{total}) SELECT '/api/v1/workouts/' || n, " \
                       "200, strftime('%Y-%m-%d %H:%M:%S', #{start}, '+' || (n + CASE WHEN n > #{ROWS} THEN " \
                       "#{KEEP + 172_800} ELSE 0 END) || ' seconds') FROM s")
  when "mysql"
    connection.execute("INSERT INTO bench_request_logs (path, status, created_at) SELECT CONCAT('/api/v1/workouts/', seq), " \
                       "200, #{start} + INTERVAL (seq + IF(seq > #{ROWS}, #{KEEP + 172_800}, 0)) SECOND " \
                       "FROM seq_1_to_#{total}")
    connection.execute("ANALYZE TABLE bench_request_logs")
  end
  raise "fill: #{BenchRequestLog.count} rows" unless BenchRequestLog.count == total
end

def monotonic
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

# The longest DELETE statement (each is its own transaction under autocommit).
def longest_delete
  longest = 0.0
  callback = lambda do |_name, started, finished, _id, payload|
    longest = [longest, (finished - started) * 1000].max if payload[:sql].start_with?("DELETE")
  end
  ActiveSupport::Notifications.subscribed(callback, "sql.active_record") { yield }
  longest
end

def line(db, approach, rows, seconds, lock_ms)
  format("%-10s %-44s %9d rows %7.1f s %9.0f rows/s   longest lock %9.1f ms\n", db, approach, rows, seconds,
         rows / seconds, lock_ms)
end

now = Time.now.utc
cutoff = now - KEEP
VirtualTrainerOptimizer::Retention.define { table :bench_request_logs, keep: KEEP, action: :delete, batch_size: 1000 }
$stdout.write("Deleting #{ROWS} expired rows of #{ROWS + FRESH}, batches of 1,000\n")
DATABASES.each do |db|
  connection = connect(db)

  fill(connection, db, now)
  t0 = monotonic
  summary = VirtualTrainerOptimizer::Retention.run(connection: connection, dry_run: false, pause: 0, now: now,
                                                   statement_timeout: 60)
  seconds = monotonic - t0
  raise "Retention.run: #{summary}" unless summary.status == :completed && summary.deleted == ROWS

  $stdout.write(line(db, "Retention.run", summary.deleted, seconds, summary.longest_lock_ms))

  fill(connection, db, now)
  t0 = monotonic
  lock = longest_delete { BenchRequestLog.where("created_at < ?", cutoff).in_batches(of: 1000).delete_all }
  seconds = monotonic - t0
  $stdout.write(line(db, "in_batches(of: 1000).delete_all", ROWS, seconds, lock))

  fill(connection, db, now)
  t0 = monotonic
  deleted = BenchRequestLog.where("created_at < ?", cutoff).delete_all
  seconds = monotonic - t0
  raise "delete_all: #{deleted}" unless deleted == ROWS

  $stdout.write(line(db, "where(...).delete_all (one statement)", deleted, seconds, seconds * 1000))
  ActiveRecord::Base.remove_connection
end
