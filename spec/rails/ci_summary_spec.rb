# frozen_string_literal: true

require_relative "rails_helper"
require "open3"
require "stringio"
require "tmpdir"

RSpec.describe "CI summary (#{VirtualTrainer::DB})" do
  summary = VirtualTrainerOptimizer::CiSummary

  around do |example|
    Dir.mktmpdir("vto-summary") do |dir|
      @dir = dir
      summary.reset!
      example.run
    ensure
      summary.reset!
    end
  end

  def with_env(name, value)
    saved = ENV[name]
    ENV[name] = value
    yield
  ensure
    ENV[name] = saved
  end

  it "is off unless configured, and with :ci only when CI is set" do
    expect(summary.active?).to be(false)
    VirtualTrainerOptimizer.scan { UserReport.workout_titles }
    expect(summary.finish(out: StringIO.new)).to be_nil
    with_config(ci_summary: :ci) do
      with_env("CI", nil) { expect(summary.active?).to be(false) }
      with_env("CI", "false") { expect(summary.active?).to be(false) }
      with_env("CI", "true") { expect(summary.active?).to be(true) }
    end
  end

  it "sums up every unit's findings once, as text, annotations, JSON and SARIF" do
    with_config(ci_summary: true, ci_summary_formats: %i[text github json sarif], ci_summary_dir: @dir) do
      2.times { get "/api/users" }
      VirtualTrainerOptimizer.scan("report") { UserReport.workout_titles }
      out = StringIO.new
      printed = summary.finish(out: out)
      expect(out.string).to eq(printed)
      expect(printed).to start_with("virtual_trainer_optimizer: 3 findings at 2 places (2 new, 0 baselined)\n" \
                                    "  N+1 queries  2 places  3 occurrences")
      expect(printed).to include("N+1 query at #{marker('has-many')} - 2 occurrences, #{2 * User.count} queries " \
                                 "(max #{User.count} in one unit)")
      expect(printed).to include("in 1 unit: Api::UsersController#index", "in 1 unit: report")
      expect(printed).to match(/^::warning file=app\/services\/user_report\.rb,line=\d+,title=/)
      expect(printed).to include("JSON summary written to #{@dir}/findings.json")
      offenders = JSON.parse(File.read(File.join(@dir, "findings.json")))["offenders"]
      expect(offenders.map { |o| [o["location"], o["occurrences"]] })
        .to contain_exactly([marker("has-many"), 2], [marker("report-workouts"), 1])
      sarif = JSON.parse(File.read(File.join(@dir, "findings.sarif")))
      expect(sarif["runs"][0]["results"].size).to eq(2)
      expect(summary.finish(out: StringIO.new)).to be_nil
    end
  end

  it "says so when it cannot write a file, and the run goes on" do
    blocker = File.join(@dir, "file")
    File.write(blocker, "")
    with_config(ci_summary: true, ci_summary_formats: %i[text json], ci_summary_dir: File.join(blocker, "sub")) do
      VirtualTrainerOptimizer.scan { UserReport.workout_titles }
      out = StringIO.new
      expect(summary.finish(out: out)).to be_nil
      expect(out.string).to start_with("virtual_trainer_optimizer: 1 finding at 1 place")
      expect(out.string).to include("\nvirtual_trainer_optimizer: the CI summary failed: Errno::")
    end
  end

  it "prints at exit in a process without a test framework hook" do
    script = <<~RUBY
      require "logger"
      require "active_record"
      require "virtual_trainer_optimizer"
      ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
      ActiveRecord::Schema.verbose = false
      ActiveRecord::Schema.define do
        create_table(:authors) { |t| t.string :name }
        create_table(:books) { |t| t.integer :author_id }
      end
      class Author < ActiveRecord::Base; has_many :books; end
      class Book < ActiveRecord::Base; end
      3.times { Author.create!(name: "a").books.create! }
      VirtualTrainerOptimizer.configure do |c|
        c.logger = false
        c.ci_summary = true
      end
      VirtualTrainerOptimizer.scan("authors") { Author.all.each { |a| a.books.to_a } }
      puts "done"
    RUBY
    File.write(File.join(@dir, "authors.rb"), script)
    out, status = Open3.capture2e({ "CI" => nil }, RbConfig.ruby, "-I", File.expand_path("../../lib", __dir__),
                                  "authors.rb", chdir: @dir)
    expect(status.success?).to be(true), out
    expect(out).to start_with("done\nvirtual_trainer_optimizer: 1 finding at 1 place (1 new, 0 baselined)")
    expect(out).to match(/N\+1 query at authors\.rb:17 - .* in 1 unit: authors/)
  end
end
