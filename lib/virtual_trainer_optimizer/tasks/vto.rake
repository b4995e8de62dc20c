# frozen_string_literal: true

# Loaded by the Railtie, or by `require "virtual_trainer_optimizer/rake_tasks"`.
namespace :vto do
  desc "Run the test suite and write the strict-mode baseline (.vto_baseline.yml) from the findings it makes; " \
       "VTO_BASELINE_COMMAND overrides the command (default: bundle exec rspec, or rspec without a Gemfile)"
  task :baseline do
    command = ENV["VTO_BASELINE_COMMAND"] || (File.exist?("Gemfile") ? "bundle exec rspec" : "rspec")
    puts "vto:baseline: #{command} (VTO_BASELINE=write)"
    next if system({ "VTO_BASELINE" => "write" }, command)

    abort "vto:baseline: `#{command}` failed (#{$?.exitstatus ? "exit #{$?.exitstatus}" : $?.inspect}); " \
          "any baseline it wrote holds the findings of the examples that ran"
  end

  desc "Index advice: unindexed foreign keys, redundant and unused indexes, and indexes for the recorded " \
       "workload. FORMAT=text|markdown|json, STRUCTURE=db/structure.sql (no database), " \
       "WORKLOAD=log/virtual_trainer_optimizer.jsonl, VERIFY=0 to skip the planner check, KINDS=a,b"
  task indexes: (Rake::Task.task_defined?(:environment) ? :environment : []) do
    require "virtual_trainer_optimizer/indexes"
    require "virtual_trainer_optimizer/indexes/render"
    config = VirtualTrainerOptimizer.config
    format = ENV.fetch("FORMAT", "text")
    unless VirtualTrainerOptimizer::Indexes::Render::FORMATS.include?(format)
      abort "vto:indexes: FORMAT must be one of #{VirtualTrainerOptimizer::Indexes::Render::FORMATS.join(', ')}"
    end

    workload = ENV["WORKLOAD"]
    default_log = config.jsonl_path && File.expand_path(config.jsonl_path.to_s, config.app_root_path)
    workload ||= default_log if default_log && File.file?(default_log)
    kinds = ENV["KINDS"]&.split(",")&.map(&:strip)
    options = { workload: workload, kinds: kinds }
    if ENV["STRUCTURE"]
      abort "vto:indexes: no file at #{ENV['STRUCTURE']}" unless File.file?(ENV["STRUCTURE"])
      options[:structure_sql] = File.read(ENV["STRUCTURE"])
    else
      abort "vto:indexes: no database connection (run it in a Rails app, or give STRUCTURE=)" unless defined?(ActiveRecord::Base)
      options[:connection] = ActiveRecord::Base.connection
      options[:verify] = ENV["VERIFY"] != "0" && !workload.nil?
    end
    begin
      suggestions = VirtualTrainerOptimizer::Indexes.analyze(**options)
    rescue ArgumentError, VirtualTrainerOptimizer::Error => e
      abort "vto:indexes: #{e.message}"
    end
    $stdout.write(VirtualTrainerOptimizer::Indexes::Render.render(suggestions, format))
  end

  namespace :retention do
    desc "Retention and governance check: tables without a policy, personal and health columns, erasure gaps. " \
         "FORMAT=text|json; policies from the initializer or config/vto_retention.yml"
    task check: (Rake::Task.task_defined?(:environment) ? :environment : []) do
      require "virtual_trainer_optimizer/retention"
      retention = VirtualTrainerOptimizer::Retention
      format = ENV.fetch("FORMAT", "text")
      abort "vto:retention:check: FORMAT must be text or json" unless %w[text json].include?(format)
      abort "vto:retention:check: no database connection (run it in a Rails app)" unless defined?(ActiveRecord::Base)

      begin
        retention.load_default_policies
        findings = retention.check(connection: ActiveRecord::Base.connection)
      rescue ArgumentError, VirtualTrainerOptimizer::Error => e
        abort "vto:retention:check: #{e.message}"
      end
      if format == "json"
        $stdout.write("#{JSON.pretty_generate(findings.map(&:to_h))}\n")
      elsif findings.empty?
        $stdout.write("virtual_trainer_optimizer: no retention or governance findings\n")
      else
        $stdout.write("virtual_trainer_optimizer: #{findings.size} retention and governance findings\n")
        findings.each_with_index do |f, i|
          $stdout.write("\n#{i + 1}. #{f.message}\n   #{f.suggestion.to_s.gsub("\n", "\n   ")}\n")
        end
      end
    end

    desc "Runs the retention policies: a dry run (counts and SQL) unless DRY_RUN=0. TABLES=a,b MAX_ROWS=n " \
         "MAX_RUNTIME=seconds PAUSE=seconds STATEMENT_TIMEOUT=seconds LOCK_TIMEOUT=seconds FORMAT=text|json"
    task run: (Rake::Task.task_defined?(:environment) ? :environment : []) do
      require "virtual_trainer_optimizer/retention"
      retention = VirtualTrainerOptimizer::Retention
      abort "vto:retention:run: no database connection (run it in a Rails app)" unless defined?(ActiveRecord::Base)
      format = ENV.fetch("FORMAT", "text")
      abort "vto:retention:run: FORMAT must be text or json" unless %w[text json].include?(format)
      dry_run = !%w[0 false no].include?(ENV.fetch("DRY_RUN", "1").downcase)
      options = {}
      options[:tables] = ENV["TABLES"].split(",").map(&:strip) if ENV["TABLES"].to_s.strip != ""
      { max_rows: "MAX_ROWS", max_runtime: "MAX_RUNTIME", pause: "PAUSE", statement_timeout: "STATEMENT_TIMEOUT",
        lock_timeout: "LOCK_TIMEOUT" }.each do |key, name|
        next if ENV[name].to_s.strip == ""

        options[key] = key == :max_rows ? Integer(ENV[name], 10) : Float(ENV[name])
      rescue ArgumentError
        abort "vto:retention:run: #{name} must be a number, got #{ENV[name].inspect}"
      end
      bar = retention::ProgressBar.new($stderr) if $stderr.tty? && format == "text"
      begin
        retention.load_default_policies
        summary = retention.run(connection: ActiveRecord::Base.connection, dry_run: dry_run, progress: bar, **options)
      rescue ArgumentError, VirtualTrainerOptimizer::Error => e
        abort "vto:retention:run: #{e.message}"
      ensure
        bar&.finish
      end
      if format == "json"
        $stdout.write("#{JSON.pretty_generate(summary.to_h)}\n")
      else
        $stdout.write("#{summary}\n")
        summary.tables.each { |t| t.sql.each { |sql| $stdout.write("    #{sql}\n") } } if summary.dry_run?
      end
      abort "vto:retention:run: failed (see above)" if summary.status == :failed
    end

    desc "The retention kill switch: stops a running vto:retention:run before its next batch, and every run " \
         "until vto:retention:enable. REASON=text"
    task disable: (Rake::Task.task_defined?(:environment) ? :environment : []) do
      require "virtual_trainer_optimizer/retention"
      VirtualTrainerOptimizer::Retention.disable!(connection: ActiveRecord::Base.connection,
                                                  reason: ENV.fetch("REASON", "disabled by rake vto:retention:disable"))
      $stdout.write("virtual_trainer_optimizer: retention runs disabled\n")
    end

    desc "Turns the retention kill switch off"
    task enable: (Rake::Task.task_defined?(:environment) ? :environment : []) do
      require "virtual_trainer_optimizer/retention"
      VirtualTrainerOptimizer::Retention.enable!(connection: ActiveRecord::Base.connection)
      $stdout.write("virtual_trainer_optimizer: retention runs enabled\n")
    end
  end

  desc "The full report: assessment, optimization, infrastructure and data-governance recommendations, roadmap. " \
       "FORMAT=text|markdown|json|html OUTPUT=file SOURCE=jsonl|redis|pg_stat_statements " \
       "JSONL=path[,path] (the detector's workload files)"
  task report: (Rake::Task.task_defined?(:environment) ? :environment : []) do
    require "virtual_trainer_optimizer/report"
    abort "vto:report: no database connection (run it in a Rails app)" unless defined?(ActiveRecord::Base)
    format = ENV.fetch("FORMAT", "text")
    output = ENV["OUTPUT"].to_s.strip
    jsonl = ENV["JSONL"].to_s.split(",").map(&:strip).reject(&:empty?)
    begin
      VirtualTrainerOptimizer::Retention.load_default_policies
      report = VirtualTrainerOptimizer::Report.generate(
        connection: ActiveRecord::Base.connection, format: format, color: output.empty? && $stdout.tty?,
        source: ENV.fetch("SOURCE", "jsonl"), jsonl: jsonl.empty? ? nil : jsonl
      )
    rescue ArgumentError, VirtualTrainerOptimizer::Error => e
      abort "vto:report: #{e.message}"
    end
    if output.empty?
      $stdout.write(report.end_with?("\n") ? report : "#{report}\n")
    else
      File.write(output, report)
      $stdout.write("virtual_trainer_optimizer: #{format} report written to #{output}\n")
    end
  end
end
