# frozen_string_literal: true

require_relative "rails_helper"
require "open3"
require "rbconfig"

RSpec.describe "Minitest assertions (#{VirtualTrainer::DB})" do
  it "pass and fail with their messages under Minitest itself" do
    env = { "VTO_DB" => VirtualTrainer::DB,
            "VTO_SQLITE_PATH" => File.join(VirtualTrainer::TMP, "minitest.sqlite3"),
            "VTO_PG_URL" => "postgresql://postgres@127.0.0.1:5432/vto_rails_minitest",
            "DATABASE_URL" => nil }
    root = File.expand_path("../..", __dir__)
    out, status = Open3.capture2e(env, RbConfig.ruby, "-I", File.join(root, "lib"),
                                  File.join(__dir__, "minitest/assertions_test.rb"), chdir: root)
    expect(status.success?).to be(true), out
    expect(out).to match(/4 runs, \d+ assertions, 0 failures, 0 errors, 0 skips\n+virtual_trainer_optimizer: \d+ findings at \d+ places/)
    expect(out).to match(%r{N\+1 query at app/services/user_report\.rb:\d+ - \d+ occurrences})
  end
end
