# frozen_string_literal: true

# As on Heroku: WEB_CONCURRENCY workers of RAILS_MAX_THREADS threads.
workers Integer(ENV.fetch("WEB_CONCURRENCY", 2))
threads_count = Integer(ENV.fetch("RAILS_MAX_THREADS", 5))
threads threads_count, threads_count
preload_app!
port ENV.fetch("PORT", 3000)
