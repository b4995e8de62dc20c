# frozen_string_literal: true

# Serves N requests to the spec app with the detector on or off; run under
# valgrind by bench/overhead.rb (VTO_BENCH_CALLGRIND=1).
#
#   ruby -Ilib bench/support/requests.rb on|off COUNT PATH
require_relative "spec_app"

mode, count, path = ARGV
on = mode == "on"
VirtualTrainerOptimizer.config.enabled = on
on ? VirtualTrainerOptimizer.install! : VirtualTrainerOptimizer::Subscriber.uninstall!
env = Rack::MockRequest.env_for(path)
Integer(count).times do
  _status, _headers, body = Rails.application.call(env.dup)
  body.close if body.respond_to?(:close)
end
