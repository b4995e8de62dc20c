# frozen_string_literal: true

# Serves N requests to the spec app with the detector on or off; run under
# valgrind by bench/overhead.rb (VTO_BENCH_CALLGRIND=1).
#
#   ruby -Ilib bench/support/requests.rb on|off COUNT PATH
require "tmpdir"
ENV["VTO_DB"] = "sqlite"
ENV["VTO_SQLITE_PATH"] = File.join(Dir.mktmpdir("vto-bench"), "bench.sqlite3")
ENV["VTO_JSONL"] = File.join(File.dirname(ENV["VTO_SQLITE_PATH"]), "findings.jsonl")
require_relative "../../spec/rails_app/config/application"
Rails.application.initialize!
ActiveRecord::Migration.verbose = false
load Rails.root.join("db/schema.rb")
load Rails.root.join("db/seeds.rb")
VirtualTrainerOptimizer.config.logger = Logger.new(IO::NULL)

mode, count, path = ARGV
on = mode == "on"
VirtualTrainerOptimizer.config.enabled = on
on ? VirtualTrainerOptimizer.install! : VirtualTrainerOptimizer::Subscriber.uninstall!
env = Rack::MockRequest.env_for(path)
Integer(count).times do
  _status, _headers, body = Rails.application.call(env.dup)
  body.close if body.respond_to?(:close)
end
