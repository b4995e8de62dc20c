# frozen_string_literal: true

# Boots the Virtual Trainer spec app (spec/rails_app) on the database VTO_DB
# names (sqlite, the default, or postgresql), loads its schema and seeds.
require_relative "../rails_app/config/test_boot"
require "rack/test"

# Findings of the units of work the block runs (requests, jobs, scans), from
# the on_finding callback.
module FindingCollector
  def collect_findings
    found = []
    config = VirtualTrainerOptimizer.config
    saved = config.on_finding
    config.on_finding = ->(finding) { found << finding }
    yield
    found
  ensure
    config.on_finding = saved
  end

  # The line of the app file that carries `# marker:NAME`.
  def marker(name)
    Dir[Rails.root.join("app/**/*.rb")].each do |path|
      File.foreach(path).with_index(1) do |line, number|
        return "#{path.delete_prefix("#{Rails.root}/")}:#{number}" if line.match?(/# marker:#{Regexp.escape(name)}$/)
      end
    end
    raise ArgumentError, "no marker #{name}"
  end

  # The message of the expectation the block makes fail.
  def failure_of
    yield
    raise "expected the expectation to fail"
  rescue RSpec::Expectations::ExpectationNotMetError => e
    e.message
  end

  # What the block writes to $stdout (or $stderr).
  def capture(stream = :stdout)
    require "stringio"
    out = StringIO.new
    saved = stream == :stderr ? $stderr : $stdout
    stream == :stderr ? ($stderr = out) : ($stdout = out)
    yield
    out.string
  ensure
    stream == :stderr ? ($stderr = saved) : ($stdout = saved)
  end

  # Runs one of the app's rake tasks (again) with ENV set for it, and returns
  # what it wrote to `stream`.
  def run_rake(task, env = {}, stream: :stdout)
    require "rake"
    Rails.application.load_tasks unless Rake::Task.task_defined?(task)
    saved = env.keys.to_h { |k| [k, ENV[k]] }
    env.each { |k, v| ENV[k] = v }
    Rake::Task[task].reenable
    capture(stream) { Rake::Task[task].invoke }
  ensure
    saved&.each { |k, v| ENV[k] = v }
  end

end

RSpec.configure do |config|
  config.include Rack::Test::Methods, :rails
  config.include FindingCollector, :rails
  config.define_derived_metadata(file_path: %r{/spec/rails/}) { |meta| meta[:rails] = true }
end

def app
  Rails.application
end
