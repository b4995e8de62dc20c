# frozen_string_literal: true

require_relative "rails_helper"
require "open3"
require "virtual_trainer_optimizer/indexes"

# The index advisor on the spec app's schema (db/schema.rb ends with the
# advisor's fixtures), on the database VTO_DB names: SQLite, PostgreSQL or
# MariaDB (rake spec:rails:mysql).
RSpec.describe "Index advisor (#{VirtualTrainer::DB})" do
  indexes = VirtualTrainerOptimizer::Indexes
  db = VirtualTrainer::DB

  let(:suggestions) { indexes.analyze(connection: ActiveRecord::Base.connection, usage: false) }

  def of_kind(kind)
    suggestions.select { |s| s.kind == kind }
  end

  def summary(list)
    list.map { |s| [s.table, s.columns] }.sort
  end

  it "finds every unindexed foreign key: declared, by association, by convention, polymorphic" do
    expected = [["api_request_logs", ["user_id"]], ["completed_workouts", ["user_id"]], ["diets", ["user_id"]],
                ["likes", %w[likeable_type likeable_id]], ["team_memberships", ["user_id"]]]
    # InnoDB indexes every declared foreign key itself.
    expected << ["notifications", ["user_id"]] unless db == "mysql"
    found = of_kind(:missing_foreign_key_index)
    expect(summary(found)).to eq(expected.sort)

    via = found.to_h { |s| [s.table, s.via] }
    expect(via).to include("api_request_logs" => "association", "likes" => "association",
                           "team_memberships" => "convention")
    expect(via["notifications"]).to eq("declared") unless db == "mysql"
  end

  it "writes the migration and SQL a senior engineer would, with the reason" do
    s = of_kind(:missing_foreign_key_index).find { |x| x.table == "api_request_logs" }
    version = ActiveRecord::Migration.current_version
    expect(s.index_name).to eq("index_api_request_logs_on_user_id")
    expect(s.migration).to include("< ActiveRecord::Migration[#{version}]")
    if db == "postgresql"
      expect(s.migration).to include("disable_ddl_transaction!", "add_index :api_request_logs, :user_id, algorithm: :concurrently")
      expect(s.sql).to eq("CREATE INDEX CONCURRENTLY index_api_request_logs_on_user_id ON api_request_logs (user_id);")
    else
      expect(s.migration).not_to include("disable_ddl_transaction!", "concurrently")
      expect(s.migration).to include("add_index :api_request_logs, :user_id")
      expect(s.sql).to eq("CREATE INDEX index_api_request_logs_on_user_id ON api_request_logs (user_id);")
    end
    expect(s.reason).to include("user_id")
    expect(%i[critical high medium low]).to include(s.priority)
    likes = of_kind(:missing_foreign_key_index).find { |x| x.table == "likes" }
    expect(likes.migration).to include("add_index :likes, [:likeable_type, :likeable_id]")
  end

  it "flags exact duplicates and left prefixes, and leaves unique, trigram and expression indexes alone" do
    found = of_kind(:redundant_index)
    expect(found.map { |s| [s.index_name, s.covered_by] }).to contain_exactly(
      %w[index_api_request_logs_on_created_at_again index_api_request_logs_on_created_at],
      %w[index_api_request_logs_on_path index_api_request_logs_on_path_and_created_at]
    )
    dup = found.find { |s| s.index_name.end_with?("_again") }
    expect(dup.migration).to include('remove_index :api_request_logs, column: :created_at, ' \
                                     'name: "index_api_request_logs_on_created_at_again"')
    drop = db == "mysql" ? "DROP INDEX index_api_request_logs_on_created_at_again ON api_request_logs;" : nil
    drop ||= db == "postgresql" ? "DROP INDEX CONCURRENTLY index_api_request_logs_on_created_at_again;" : "DROP INDEX index_api_request_logs_on_created_at_again;"
    expect(dup.sql).to eq(drop)
  end

  it "narrows by kind and checks its arguments" do
    only = indexes.analyze(connection: ActiveRecord::Base.connection, usage: false, kinds: [:redundant_index])
    expect(only.map(&:kind).uniq).to eq([:redundant_index])
    expect { indexes.analyze }.to raise_error(ArgumentError, /connection: or structure_sql:/)
    expect { indexes.analyze(connection: ActiveRecord::Base.connection, kinds: [:nope]) }
      .to raise_error(ArgumentError, /unknown kinds \[:nope\]/)
    expect { indexes.parse_structure("CREATE TABLE t (id int)", :oracle) }.to raise_error(ArgumentError, /dialect/)
  end

  if db == "postgresql"
    it "reports unused indexes from the statistics, never unique or primary ones" do
      unused = indexes.analyze(connection: ActiveRecord::Base.connection, kinds: [:unused_index])
      names = unused.map(&:index_name)
      expect(names).to include("index_api_request_logs_on_path_and_created_at")
      expect(names).not_to include("index_api_request_logs_on_request_id", "users_pkey")
      expect(unused).to all(have_attributes(priority: :low))
    end

    it "gives the same advice from a pg_dump of the database, without a connection" do
      url = URI(ENV["DATABASE_URL"].split("?").first)
      dump, status = Open3.capture2("pg_dump", "--schema-only", "--no-owner", "-h", url.host, "-p", url.port.to_s,
                                    "-U", url.user || "postgres", url.path.delete_prefix("/"))
      expect(status.success?).to be(true)
      schema, warnings = indexes.parse_structure(dump)
      expect(warnings).to eq([])
      expect(schema["tables"].map { |t| t["name"] }).to include("notifications", "team_memberships")
      offline = indexes.analyze(structure_sql: dump)
      key = ->(list) { list.reject { |s| s.kind == :unused_index }.map { |s| [s.kind, s.table, s.columns, s.index_name] }.sort }
      expect(key.call(offline)).to eq(key.call(suggestions))
    end
  end
end

require "virtual_trainer_optimizer/rspec"

RSpec.describe "Schema matchers (#{VirtualTrainer::DB})" do
  it "fails with each unindexed foreign key and its migration, and passes once they are ignored" do
    message = failure_of { expect(VirtualTrainerOptimizer).to have_no_unindexed_foreign_keys }
    expect(message).to start_with("expected no unindexed foreign keys, got ")
    expect(message).to include("missing foreign key index [", "api_request_logs (user_id)",
                               "add_index :api_request_logs, :user_id")
    ignored = %w[api_request_logs.user_id completed_workouts diets likes team_memberships notifications]
    expect(VirtualTrainerOptimizer).to have_no_unindexed_foreign_keys.ignoring(*ignored)
  end

  it "fails with each redundant index and the index that covers it" do
    message = failure_of { expect(VirtualTrainerOptimizer).to have_no_redundant_indexes }
    expect(message).to start_with("expected no redundant indexes, got 2:")
    expect(message).to include("index_api_request_logs_on_path_and_created_at", "remove_index :api_request_logs")
    expect(VirtualTrainerOptimizer).to have_no_redundant_indexes
      .ignoring("index_api_request_logs_on_path", "index_api_request_logs_on_created_at_again")
    expect(VirtualTrainerOptimizer).to have_no_redundant_indexes.on(ActiveRecord::Base.connection).ignoring("api_request_logs")
  end
end
