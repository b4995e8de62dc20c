# frozen_string_literal: true

# SQL.fingerprint against PgQuery.fingerprint (the pg_query gem, libpg_query) on
# the same corpus, in the same process: the PostgreSQL statements of
# tests/vectors/ that pg_query accepts (Rails-generated SQL). Also the cost of
# SQL.analyze on a cache miss (a parse) and on a hit.
#
#   ruby -Ilib bench/fingerprint.rb        (after `rake compile`)

require "json"
require "benchmark/ips"
require "pg_query"
require "virtual_trainer_optimizer"

VTO = VirtualTrainerOptimizer::SQL
vectors = Dir[File.expand_path("../tests/vectors/*.json", __dir__)].flat_map { |f| JSON.parse(File.read(f)) }
corpus = vectors.select { |v| v["dialect"] == "postgresql" }.map { |v| v["sql"] }.select do |sql|
  PgQuery.fingerprint(sql)
rescue PgQuery::ParseError
  false
end
abort "empty corpus: run `rake vectors:generate`" if corpus.empty?
mean = corpus.sum(&:bytesize) / corpus.size
puts "corpus: #{corpus.size} PostgreSQL statements from tests/vectors (mean #{mean} bytes), " \
     "ruby #{RUBY_VERSION}, pg_query #{PgQuery::VERSION}"

report = Benchmark.ips do |x|
  x.config(time: 5, warmup: 2)
  x.report("VirtualTrainerOptimizer::SQL.fingerprint") { corpus.each { |sql| VTO.fingerprint(sql) } }
  x.report("PgQuery.fingerprint") { corpus.each { |sql| PgQuery.fingerprint(sql) } }
end
ours, theirs = report.entries.map { |e| e.ips * corpus.size }
puts format("\nper query: SQL.fingerprint %.2f us (%.0f queries/s), PgQuery.fingerprint %.2f us (%.0f queries/s)",
            1e6 / ours, ours, 1e6 / theirs, theirs)
puts format("SQL.fingerprint is %.1fx the throughput of PgQuery.fingerprint", ours / theirs)

unique = corpus.uniq { |sql| VTO.fingerprint(sql) }
VTO.clear_cache!
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
unique.each { |sql| VTO.analyze(sql) }
miss = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0) / unique.size
rounds = 50
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
rounds.times { unique.each { |sql| VTO.analyze(sql) } }
hit = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0) / (unique.size * rounds)
stats = VTO.cache_stats
puts format("SQL.analyze: cache miss (parse) %.1f us, cache hit %.2f us per statement " \
            "(%d distinct shapes; hits %d, misses %d)", miss * 1e6, hit * 1e6, unique.size,
            stats["hits"], stats["misses"])
