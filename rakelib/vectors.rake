# frozen_string_literal: true

namespace :vectors do
  desc "Regenerate tests/vectors/rails_{sqlite,postgresql,mysql}.json from real ActiveRecord " \
       "(needs PostgreSQL and MariaDB; see script/generate_vectors.rb for VTO_* settings)"
  task generate: :compile do
    ruby "-Ilib", "script/generate_vectors.rb"
  end
end
