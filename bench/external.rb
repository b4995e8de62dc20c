# frozen_string_literal: true

# What capturing an outbound call costs: an OpenAI-compatible endpoint served
# by WEBrick in this process (demo/lib/fake_openai.rb), called through
# Net::HTTP outside any unit of work (not recorded) and inside a scan
# (recorded: path template, usage read from the JSON response, prompt
# fingerprint, and the core's analysis at the scan's end). Process CPU per call, median of 7 rounds of 300 calls; the
# server's own work is in both figures. Bullet, Prosopite and PgHero do not
# look at HTTP: there is no peer to run beside it.
#
#   ruby -Ilib bench/external.rb        (after `rake compile`)

require "logger"
require "active_record"
require "json"
require "net/http"
require "virtual_trainer_optimizer"
require_relative "support/timing"
require_relative "../demo/lib/fake_openai"

ROUNDS = 7
CALLS = 300

ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
VirtualTrainerOptimizer.configure { |c| c.logger = false }

server = FakeOpenAI.new.start
http = Net::HTTP.new("127.0.0.1", server.port)
http.start
prompt = JSON.generate(model: "gpt-4o-mini", messages: [{ role: "user", content: "Plan a week of workouts" }])
call = lambda do
  request = Net::HTTP::Post.new("/v1/chat/completions", "Content-Type" => "application/json")
  request.body = prompt
  http.request(request)
end
answer = call.call.body # a real answer, for the capture-alone figures below
VirtualTrainerOptimizer.scan { call.call } # installs the capture

outside = []
recorded = []
ROUNDS.times do
  t = cpu
  CALLS.times { call.call }
  outside << (cpu - t) / CALLS * 1e6
  t = cpu
  VirtualTrainerOptimizer.scan { CALLS.times { call.call } }
  recorded << (cpu - t) / CALLS * 1e6
end
server.stop

printf("outbound call end to end, CPU per call: outside a unit %.1f us, recorded in a scan %.1f us (+%.1f us)\n",
       median(outside), median(recorded), median(recorded) - median(outside))

# The capture's own work, without the server's noise: recording one call
# (path template, usage, prompt fingerprint, call site) and the core's
# analysis at the unit's end, per call.
response = Net::HTTPOK.new("1.1", "200", "OK")
response["Content-Type"] = "application/json"
response.instance_variable_set(:@body, answer)
response.instance_variable_set(:@read, true)
request = Net::HTTP::Post.new("/v1/chat/completions?user=42")
record = []
analysis = []
ROUNDS.times do
  VirtualTrainerOptimizer::Scope.run(:scan, "bench", always: true) do |scope|
    t = cpu
    CALLS.times do
      VirtualTrainerOptimizer::External::NetHttp.record(http, scope, request, prompt, response, nil,
                                                        VirtualTrainerOptimizer::External.monotonic_ms)
    end
    record << (cpu - t) / CALLS * 1e6
    calls = scope.instance_variable_get(:@external_calls)
    t = cpu
    VirtualTrainerOptimizer::External::Analysis.run(scope, calls, 1000.0)
    analysis << (cpu - t) / calls.size * 1e6
  end
end
printf("capture alone, CPU per call: recording %.1f us, analysis at the unit's end %.1f us\n",
       median(record), median(analysis))
