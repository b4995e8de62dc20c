# frozen_string_literal: true

# The index advisor from Ruby, end to end: a generated 500-table schema (as
# introspection would hand it over) and 10,000 distinct recorded query shapes
# (as SQL strings: normalized and fingerprinted first), through
# Indexes.advise. Wall time, median of 5 runs.
#
#   ruby -Ilib bench/indexes.rb        (after `rake compile`)

require "virtual_trainer_optimizer"
require "virtual_trainer_optimizer/indexes"

TABLES = 500
SHAPES = 10_000

def column(name, type, distinct: nil)
  { name: name, type: type, null: true, default: nil, distinct: distinct, avg_width: nil }
end

def key(name)
  { column: name, expression: nil, opclass: nil, order: "asc" }
end

tables = Array.new(TABLES) do |i|
  name = "table_#{i}s"
  parent = "table_#{(i + 1) % TABLES}s"
  { name: name, rows: 10_000 + (i * 997 % 2_000_000), size_bytes: nil,
    columns: [column("id", "bigint", distinct: 10_000), column("table_#{(i + 1) % TABLES}_id", "bigint", distinct: 500),
              column("account_id", "bigint", distinct: 200), column("status", "character varying", distinct: 4),
              column("kind", "character varying", distinct: 12), column("score", "integer", distinct: 1000),
              column("created_at", "timestamp without time zone", distinct: 10_000),
              column("updated_at", "timestamp without time zone", distinct: 10_000)],
    primary_key: ["id"],
    indexes: [{ name: "#{name}_pkey", unique: true, primary: true, constraint: false, method: "btree", where: nil,
                keys: [key("id")], include: [], scans: nil, size_bytes: nil },
              { name: "index_#{name}_on_account_id", unique: false, primary: false, constraint: false, method: "btree",
                where: nil, keys: [key("account_id")], include: [], scans: nil, size_bytes: nil }],
    foreign_keys: [{ name: "fk_#{i}", columns: ["table_#{(i + 1) % TABLES}_id"], to_table: parent, to_columns: ["id"],
                     on_delete: "cascade" }] }
end
schema = { dialect: "postgresql", tables: tables, associations: [] }

templates = [
  ->(t, n) { "SELECT * FROM #{t} WHERE account_id = #{n} AND created_at > '2026-01-01' ORDER BY created_at DESC LIMIT 20" },
  ->(t, n) { "SELECT * FROM #{t} WHERE status = 'active' AND kind = 'k#{n}' ORDER BY score" },
  ->(t, n) { "SELECT count(*) FROM #{t} WHERE score BETWEEN #{n} AND #{n + 10} AND kind = 'x'" },
  ->(t, n) { "SELECT id FROM #{t} WHERE kind IN ('a', 'b') AND updated_at < '2026-02-0#{n % 9 + 1}'" }
]
sql = Array.new(SHAPES) do |i|
  table = "table_#{i % TABLES}s"
  # Distinct shapes: the column list and the table vary, not only the values.
  templates[i % templates.size].call(table, i).sub("SELECT ", "SELECT #{table}.c#{i}, ")
end

times = Array.new(5) do
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  workload = VirtualTrainerOptimizer::Indexes::Workload.from(sql, dialect: :postgresql)
  @suggestions = VirtualTrainerOptimizer::Indexes.advise(schema, workload: workload)
  Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
end
distinct = VirtualTrainerOptimizer::Indexes::Workload.from(sql, dialect: :postgresql).size
puts format("%d tables, %d distinct shapes -> %d suggestions: %.0f ms (median of 5, Ruby %s)",
            TABLES, distinct, @suggestions.size, times.sort[2] * 1000, RUBY_VERSION)
