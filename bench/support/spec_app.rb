# frozen_string_literal: true

# Boots the spec app (spec/rails_app) on a throwaway SQLite file for the
# request benchmarks, with findings logged nowhere.
require "tmpdir"
dir = Dir.mktmpdir("vto-bench")
ENV["VTO_DB"] = "sqlite"
ENV["VTO_SQLITE_PATH"] = File.join(dir, "bench.sqlite3")
ENV["VTO_JSONL"] = File.join(dir, "findings.jsonl")
require_relative "../../spec/rails_app/config/test_boot"
VirtualTrainerOptimizer.config.logger = Logger.new(IO::NULL)
