# frozen_string_literal: true

# bin/demo's body: boots the Virtual Trainer demo app on a fresh database
# (SQLite under tmp/demo, or the database of DATABASE_URL, whose demo tables
# are recreated), seeds it, drives its mobile API, web dashboard and jobs
# in-process like a stretch of production traffic, and prints the report.
#
#   bin/demo [--format text|markdown|json|html] [--output FILE]

require "optparse"

options = { format: "text", output: nil, save_input: nil }
parser = OptionParser.new do |o|
  o.banner = "Usage: bin/demo [--format text|markdown|json|html] [--output FILE]"
  o.on("--format FORMAT", "text (default), markdown, json or html") { |f| options[:format] = f }
  o.on("--output FILE", "write the report to FILE instead of the terminal") { |f| options[:output] = f }
  o.on("--save-input FILE", "also write the evidence the report is built from (JSON)") { |f| options[:save_input] = f }
  o.on("-h", "--help", "this help") do
    puts o
    exit
  end
end
begin
  parser.parse!(ARGV)
  formats = %w[text markdown json html]
  raise OptionParser::InvalidArgument, "--format #{options[:format]} (one of #{formats.join(', ')})" unless formats.include?(options[:format])
  raise OptionParser::InvalidArgument, "unexpected #{ARGV.join(' ')}" unless ARGV.empty?
rescue OptionParser::ParseError => e
  warn "bin/demo: #{e.message}\n#{parser}"
  exit 2
end

require_relative "../config/application"
require_relative "../lib/fake_openai"

# The app's OpenAI calls go over real HTTP to a local stand-in that answers
# like the API, with its latency: VTO_DEMO_AI_SECONDS for the program
# generator's model, 0.7 s for the small one.
openai = FakeOpenAI.new(latency: { "gpt-4o" => Float(ENV.fetch("VTO_DEMO_AI_SECONDS", "5.2")), "gpt-4o-mini" => 0.7 },
                        usage: { prompt_tokens: 900, completion_tokens: 1400 }).start
at_exit { openai.stop }
ENV["OPENAI_BASE_URL"] = openai.base_url
ENV["OPENAI_API_KEY"] = "sk-demo-not-a-real-key"
sqlite = ENV["DATABASE_URL"].start_with?("sqlite3:")
FileUtils.rm_f(Dir["#{ENV['DATABASE_URL'][/\Asqlite3:([^?]+)/, 1]}*"]) if sqlite
jsonl = Rails.application.config.virtual_trainer_optimizer.jsonl_path
FileUtils.rm_f(jsonl)
Rails.application.initialize!
ActiveRecord::Migration.verbose = false
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)

# The schema and seeds run outside any unit of work: not part of the workload.
load Rails.root.join("db/schema.rb")
load Rails.root.join("db/seeds.rb")
ActiveRecord::Base.connection.execute("ANALYZE") # planner statistics, and row counts for the report

app = Rack::MockRequest.new(Rails.application)
users = User.order(:id).pluck(:id)
teams = Team.order(:id).pluck(:id)
workouts = Workout.order(:id).limit(20).pluck(:id)
requests = []
requests += Array.new(30) { |i| "/api/v1/completed_workouts?user_id=#{users[i % users.size]}" }
requests += Array.new(9) { |i| "/api/v1/teams/#{teams[i % teams.size]}/statistics" }
requests += Array.new(20) { |i| "/api/v1/workouts?user_id=#{users[i % users.size]}" }
requests += workouts.map { |id| "/api/v1/workouts/#{id}" }
requests += Array.new(30) { |i| "/api/v1/notifications?user_id=#{users[i % users.size]}" }
requests += Array.new(8) { |i| "/dashboard?user_id=#{users[i % users.size]}" }
# The AI job runs while the app serves requests, as a Sidekiq process would
# beside Puma (its own connection from the pool).
ai_job = Thread.new do
  ActiveRecord::Base.connection_pool.with_connection { CustomHealthProgramJob.perform_now(users.first) }
end
requests.each do |path|
  response = app.get(path)
  abort "bin/demo: GET #{path} answered #{response.status}: #{response.body[0, 500]}" unless response.status == 200
end
# Program previews, asked of the model inside the request; one user asks twice.
[[users[0], "marathon"], [users[0], "marathon"], [users[1], "strength"]].each do |user, goal|
  path = "/api/v1/health_programs?user_id=#{user}&goal=#{goal}"
  response = app.post(path)
  abort "bin/demo: POST #{path} answered #{response.status}: #{response.body[0, 500]}" unless response.status == 201
  requests << path
end
ai_job.join
teams.each { |team| WeeklySummaryJob.perform_now(team) }
driven = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started

color = options[:output].nil? && $stdout.tty?
input = VirtualTrainerOptimizer::Report.input(connection: ActiveRecord::Base.connection, jsonl: jsonl,
                                              app: "Virtual Trainer")
File.write(options[:save_input], JSON.pretty_generate(input)) if options[:save_input]
report = VirtualTrainerOptimizer::Report.render(input, options[:format], color: color)
warn format("bin/demo: %<requests>d requests and %<jobs>d jobs on %<db>s in %<s>.1f s",
            requests: requests.size, jobs: teams.size + 1, db: ActiveRecord::Base.connection.adapter_name, s: driven)
if options[:output]
  File.write(options[:output], report)
  warn "bin/demo: #{options[:format]} report written to #{options[:output]}"
else
  $stdout.write(report)
  $stdout.write("\n") unless report.end_with?("\n")
end
