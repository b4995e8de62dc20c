# frozen_string_literal: true

require_relative "rails_helper"
require "rake"
require "stringio"
require "tmpdir"

# db:migrate through the app's own rake tasks, with the migration review the
# Railtie prepends to ActiveRecord::Migrator.
RSpec.describe "Migration review (#{VirtualTrainer::DB})" do
  around do |example|
    Dir.mktmpdir("vto-migrate") do |dir|
      @dir = dir
      tasks = ActiveRecord::Tasks::DatabaseTasks
      saved = [tasks.migrations_paths, ActiveRecord::Migrator.migrations_paths,
               ActiveRecord::Base.dump_schema_after_migration]
      tasks.migrations_paths = [dir]
      ActiveRecord::Migrator.migrations_paths = [dir]
      ActiveRecord::Base.dump_schema_after_migration = false
      Rails.application.load_tasks unless Rake::Task.task_defined?("db:migrate")
      example.run
    ensure
      tasks.migrations_paths, ActiveRecord::Migrator.migrations_paths,
        ActiveRecord::Base.dump_schema_after_migration = saved
      connection = ActiveRecord::Base.connection
      connection.drop_table(:workout_notes, if_exists: true)
      connection.remove_index(:workouts, name: "index_workouts_user") if connection.index_name_exists?(:workouts, "index_workouts_user")
      ActiveRecord::SchemaMigration.delete_all if ActiveRecord::SchemaMigration.table_exists?
    end
  end

  def migrate
    run_rake("db:migrate", { "VERBOSE" => "false" }, stream: :stderr)
  end

  it "warns about a foreign key left without an index and a redundant index the migration added, and nothing else" do
    File.write(File.join(@dir, "20260101000000_add_workout_notes.rb"), <<~RUBY)
      class AddWorkoutNotes < ActiveRecord::Migration[#{ActiveRecord::Migration.current_version}]
        def change
          create_table :workout_notes do |t|
            t.bigint :workout_id
            t.text :body
          end
          add_index :workouts, :user_id, name: "index_workouts_user"
        end
      end
    RUBY
    out = with_config(migration_review: true) { migrate }
    expect(ActiveRecord::Base.connection.table_exists?(:workout_notes)).to be(true)
    lines = out.lines.grep(/\[virtual_trainer_optimizer\]/)
    expect(lines.size).to eq(2)
    expect(out).to include("[virtual_trainer_optimizer] the migration left workout_notes.workout_id without an index:")
    expect(out).to include("add_index :workout_notes, :workout_id")
    expect(out).to include("[virtual_trainer_optimizer] the migration added index_workouts_user, which " \
                           "index_workouts_on_user_id makes redundant")
    expect(out).not_to include("diets", "api_request_logs") # there before the migration
  end

  it "reviews migrations run without rake too (MigrationContext#up)" do
    File.write(File.join(@dir, "20260103000000_add_console_workout_notes.rb"), <<~RUBY)
      class AddConsoleWorkoutNotes < ActiveRecord::Migration[#{ActiveRecord::Migration.current_version}]
        def change
          create_table(:workout_notes) { |t| t.bigint :workout_id }
        end
      end
    RUBY
    err = capture(:stderr) do
      ActiveRecord::Migration.suppress_messages do
        with_config(migration_review: true) { ActiveRecord::Base.connection.migration_context.up }
      end
    end
    expect(err).to include("the migration left workout_notes.workout_id without an index")
  end

  it "stays quiet when the review is off" do
    File.write(File.join(@dir, "20260102000000_add_quiet_workout_notes.rb"), <<~RUBY)
      class AddQuietWorkoutNotes < ActiveRecord::Migration[#{ActiveRecord::Migration.current_version}]
        def change
          create_table(:workout_notes) { |t| t.bigint :workout_id }
        end
      end
    RUBY
    out = with_config(migration_review: false) { migrate }
    expect(ActiveRecord::Base.connection.table_exists?(:workout_notes)).to be(true)
    expect(out).not_to include("virtual_trainer_optimizer")
  end
end
