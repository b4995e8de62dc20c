# frozen_string_literal: true

require "fileutils"
require "open3"
require "tmpdir"

# bin/demo itself, as a new user runs it: in a copy of the checkout with no
# optimized build of the extension, it builds the unoptimized `demo` profile,
# loads it from tmp/demo/ext and prints the whole report on SQLite.
RSpec.describe "bin/demo on a checkout without a build" do
  root = File.expand_path("../..", __dir__)

  it "builds what it needs and prints every section of the report" do
    Dir.mktmpdir("vto-bin-demo") do |copy|
      files, status = Open3.capture2("git", "ls-files", "-z", chdir: root)
      raise "git ls-files failed" unless status.success?

      files.split("\0").each do |file|
        next unless File.file?(File.join(root, file)) # deleted in the working tree

        FileUtils.mkdir_p(File.join(copy, File.dirname(file)))
        FileUtils.cp(File.join(root, file), File.join(copy, file), preserve: true)
      end
      dlext = RbConfig::CONFIG["DLEXT"]
      expect(File).not_to exist(File.join(copy, "lib/virtual_trainer_optimizer/virtual_trainer_optimizer.#{dlext}"))

      # The dependencies' demo-profile builds are shared with the checkout's target directory.
      env = { "DATABASE_URL" => nil, "CARGO_TARGET_DIR" => File.join(root, "target") }
      out, err, status = Open3.capture3(env, "bin/demo", chdir: copy)
      expect(status).to be_success, "bin/demo failed:\n#{err}"

      expect(File).to exist(File.join(copy, "tmp/demo/ext/virtual_trainer_optimizer/virtual_trainer_optimizer.#{dlext}"))
      expect(err).to match(/120 requests and 4 jobs on SQLite in [\d.]+ s/)
      expect(out).to start_with("Performance report for Virtual Trainer")
      expect(out).not_to include("\e[") # not a terminal: no colour
      headings = ["1. CURRENT STATE ASSESSMENT", "1.3 N+1 queries", "1.9 External API calls",
                  "2. OPTIMIZATION RECOMMENDATIONS", "3. INFRASTRUCTURE RECOMMENDATIONS", "3.7 External APIs",
                  "4. DATA GOVERNANCE RECOMMENDATIONS", "5. IMPLEMENTATION ROADMAP"]
      positions = headings.map { |h| out.index(/^#{Regexp.escape(h)}$/) }
      expect(positions).to all(be_a(Integer)), headings.zip(positions).inspect
      expect(positions).to eq(positions.sort)
    end
  end
end
