# frozen_string_literal: true

# The detector's cost, measured in one process, alternating rounds so machine
# noise hits every variant alike; CPU time, median of the rounds.
#
# 1. Per sql.active_record event, at Ruby stack depths 20 and 150 (library
#    frames below and above one app frame, as in a Rails request): our
#    subscriber recording into an open scan, against a no-op subscriber.
#    `Kernel#caller` at the same depth is shown for reference: the floor of a
#    detector that takes a backtrace per query.
# 2. Whole requests on the spec app (SQLite): instrumented against the same
#    app with the subscriber and middleware off. CPU time on a shared machine
#    is noisy at this scale; with VTO_BENCH_CALLGRIND=1 the same requests are
#    also counted in instructions under valgrind, which repeats exactly.
#
#   ruby -Ilib bench/overhead.rb        (after `rake compile`)

require "json"
require "tmpdir"
require "fileutils"

require_relative "support/timing"

ROUNDS = 7

# -- 1. per event ------------------------------------------------------------

# Library frames come from a file outside the app root, as gems do.
library = File.join(Dir.mktmpdir("vto-bench"), "library_frames.rb")
File.write(library, <<~RUBY)
  module LibraryFrames
    def self.descend(n, &block) = n.zero? ? block.call : descend(n - 1, &block)
  end
RUBY
require library
require "logger"
require "active_support"
require "active_support/notifications"
require "virtual_trainer_optimizer"

VirtualTrainerOptimizer.configure do |c|
  c.app_root = File.expand_path("..", __dir__)
  c.logger = false
  c.instrument = false
  c.dialect = :sqlite
end

vectors = JSON.parse(File.read(File.expand_path("../tests/vectors/rails_sqlite.json", __dir__)))
EVENTS = vectors.map { |v| { sql: v["sql"], name: "Load", binds: [1], type_casted_binds: [1], cached: nil } }.freeze

class NoopSubscriber
  def call(_name, _started, _finished, _id, _payload); end
end

# Runs the block with the stack `depth` frames deep (caller_locations.size
# where it calls instrument): library frames, one app frame (this file), then
# library frames again (35 at depth 150, as ActiveRecord's own between a
# model call and the event).
def at_depth(depth, &block)
  above = depth >= 100 ? 35 : 5
  probe = nil
  LibraryFrames.descend(0) { app_frame { LibraryFrames.descend(above) { probe = caller_locations.size } } }
  below = depth - probe
  raise ArgumentError, "depth #{depth} is too shallow here" if below.negative?

  LibraryFrames.descend(below) do
    app_frame do
      LibraryFrames.descend(above) do
        actual = caller_locations.size
        raise "stack depth #{actual}, wanted #{depth}" unless actual == depth

        block.call
      end
    end
  end
end

def app_frame
  yield
end

# All events in one scan: the per-event cost, with the scan's start and end
# (measured apart below) spread thin.
def run_events(count, scan:)
  notifications = ActiveSupport::Notifications
  work = lambda do
    count.times { |n| notifications.instrument("sql.active_record", EVENTS[n % EVENTS.size]) {} }
  end
  scan ? VirtualTrainerOptimizer.scan(&work) : work.call
end

def measure(variant, depth, count)
  at_depth(depth) do
    t = cpu
    run_events(count, scan: variant == :vto)
    (cpu - t) / count * 1e6
  end
end

def caller_cost(depth, count)
  at_depth(depth) do
    t = cpu
    count.times { caller }
    (cpu - t) / count * 1e6
  end
end

count = 20_000
noop = ActiveSupport::Notifications.monotonic_subscribe("sql.active_record", NoopSubscriber.new)
puts "per event (#{EVENTS.size} Rails-generated SQLite statements in turn, CPU µs, median of #{ROUNDS})"
[20, 150].each do |depth|
  results = Hash.new { |h, k| h[k] = [] }
  measure(:noop, depth, 2_000) # warm up
  ROUNDS.times do
    results[:noop] << measure(:noop, depth, count)
    ActiveSupport::Notifications.unsubscribe(noop)
    VirtualTrainerOptimizer.install!
    results[:vto] << measure(:vto, depth, count)
    VirtualTrainerOptimizer::Subscriber.uninstall!
    noop = ActiveSupport::Notifications.monotonic_subscribe("sql.active_record", NoopSubscriber.new)
    results[:caller] << caller_cost(depth, count / 4)
  end
  base = median(results[:noop])
  ours = median(results[:vto])
  printf("  depth %3d: no-op subscriber %.2f µs, virtual_trainer_optimizer %.2f µs: +%.2f µs per event " \
         "(target <= 3.00); Kernel#caller alone %.2f µs\n",
         depth, base, ours, ours - base, median(results[:caller]))
end
ActiveSupport::Notifications.unsubscribe(noop)

VirtualTrainerOptimizer.install!
empty = Array.new(ROUNDS) do
  t = cpu
  5_000.times { VirtualTrainerOptimizer.scan {} }
  (cpu - t) / 5_000 * 1e6
end
printf("  a unit of work's own start and end (an empty scan): %.2f µs\n", median(empty))
VirtualTrainerOptimizer::Subscriber.uninstall!

# -- 2. whole requests ----------------------------------------------------------

VirtualTrainerOptimizer.reset!
require_relative "support/spec_app"

requests = { "/api/users?fixed=1" => "no finding", "/api/users" => "an N+1, logged and written" }
REQUEST_ROUNDS = 21
def serve(path, count)
  env = Rack::MockRequest.env_for(path)
  GC.start
  t = cpu
  count.times do
    status, _headers, body = Rails.application.call(env.dup)
    body.close if body.respond_to?(:close)
    raise "#{path}: #{status}" unless status == 200
  end
  (cpu - t) / count * 1e3
end

def detector(on)
  VirtualTrainerOptimizer.config.enabled = on
  on ? VirtualTrainerOptimizer.install! : VirtualTrainerOptimizer::Subscriber.uninstall!
end

puts "whole requests on the spec app (SQLite, CPU ms per request, median of #{REQUEST_ROUNDS} alternating rounds)"
requests.each do |path, what|
  on = []
  off = []
  serve(path, 100)
  REQUEST_ROUNDS.times do
    detector(false)
    off << serve(path, 100)
    detector(true)
    on << serve(path, 100)
  end
  printf("  GET %-20s (%s): off %.3f ms, on %.3f ms: %+.3f ms, %+.1f%% (target <= 5%%)\n",
         path, what, median(off), median(on), median(on) - median(off), (median(on) / median(off) - 1) * 100)
end

# -- 3. whole requests, in instructions ---------------------------------------------

if ENV["VTO_BENCH_CALLGRIND"] == "1"
  driver = File.expand_path("support/requests.rb", __dir__)
  count = lambda do |mode, n, path|
    out = IO.popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", RbConfig.ruby,
                    "-I", File.expand_path("../lib", __dir__), driver, mode, n.to_s, path], err: %i[child out], &:read)
    Integer(out[/I\s+refs:\s+([\d,]+)/, 1].delete(","))
  end
  puts "whole requests in instructions (valgrind callgrind: (count at 250 - count at 50) / 200 requests)"
  requests.each do |path, what|
    off, on = %w[off on].map { |mode| (count.call(mode, 250, path) - count.call(mode, 50, path)) / 200.0 }
    printf("  GET %-20s (%s): off %.0f, on %.0f instructions: %+.1f%% (target <= 5%%)\n",
           path, what, off, on, (on / off - 1) * 100)
  end
end
