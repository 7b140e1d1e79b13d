#!/usr/bin/env ruby
# frozen_string_literal: true

# make.rb writes the FASTLANE_SESSION fixtures in this directory the way
# `fastlane spaceauth` writes a session: it keeps the cookies whose name
# starts with "myacinfo" or "DES" or is "dqsid", and serializes them with
# HTTP::Cookie's own YAML support (Psych), once as is (<case>.yaml) and once
# with every newline written as the two characters \n (<case>.session), the
# form spaceauth prints and people paste into CI secrets.
#
# Every cookie value comes from a pseudo-random generator with a fixed seed:
# they are test strings, never real Apple cookies. Dates are fixed too, so
# running the script again rewrites the files byte for byte.
#
# Usage (Debian/Ubuntu): apt-get install ruby ruby-http-cookie
#                        ruby testdata/session/make.rb

require 'http-cookie'
require 'yaml'

DIR = __dir__
RNG = Random.new(20_261_122)

# hex returns n random lower-case hex digits.
def hex(n)
  Array.new(n) { RNG.rand(16).to_s(16) }.join
end

# b64 returns the base64 of n random bytes: it has + / and = in it, as
# Apple's DES cookie values do.
def b64(n)
  [RNG.bytes(n)].pack('m0')
end

# at is a time with nanoseconds, as Time.now has on a developer's machine.
def at(year, month, day, hour, min, sec, nsec, offset)
  Time.new(year, month, day, hour, min, sec, offset) + Rational(nsec, 1_000_000_000)
end

def cookie(name, value, domain:, for_domain:, created:, expires: nil, max_age: nil)
  c = HTTP::Cookie.new(name, value,
                       domain: domain, for_domain: for_domain, path: '/',
                       secure: true, httponly: true,
                       expires: expires, max_age: max_age)
  # One Time object for both, as a cookie fresh from a login has: Psych
  # writes it once with an anchor (&1) and refers to it with an alias (*1).
  c.created_at = created
  c.accessed_at = created
  c
end

def myacinfo(created, expires)
  cookie('myacinfo', "DAWTKNV3#{hex(416)}MVRYV2",
         domain: 'apple.com', for_domain: true, created: created, expires: expires)
end

def des(created, expires: nil, max_age: nil)
  cookie("DES#{hex(34)}", "HSARMTKNSRVXTEST#{b64(96)}SRVX",
         domain: 'idmsa.apple.com', for_domain: true, created: created,
         expires: expires, max_age: max_age)
end

def dqsid(created)
  cookie('dqsid', "eyJhbGciOiJIUzI1NiJ9.TEST.#{hex(43)}",
         domain: 'appstoreconnect.apple.com', for_domain: false, created: created,
         max_age: 1800)
end

# A cookie spaceauth leaves out of the session.
def other(created)
  cookie('itctx', hex(64), domain: 'appstoreconnect.apple.com', for_domain: false, created: created)
end

# write keeps the cookies spaceauth keeps and writes both forms.
def write(name, jar)
  cookies = jar.select do |c|
    c.name.start_with?('myacinfo') || c.name == 'dqsid' || c.name.start_with?('DES')
  end
  yaml = cookies.to_yaml
  File.write(File.join(DIR, "#{name}.yaml"), yaml)
  File.write(File.join(DIR, "#{name}.session"), yaml.gsub("\n", "\\n"))
end

# The fixed "now" of the tests is 2026-11-22 09:42:18.549512137 UTC.

# valid: logged in at the fixed date on a machine set to UTC; the DES
# cookie ends 28 days later, myacinfo 30 days later, dqsid in 30 minutes.
now = at(2026, 11, 22, 9, 42, 18, 549_512_137, '+00:00')
write('valid', [
  des(now, expires: at(2026, 12, 20, 9, 42, 18, 0, '+00:00')),
  myacinfo(now, at(2026, 12, 22, 9, 42, 18, 0, '+00:00')),
  dqsid(now),
  other(now),
])

# expiring: logged in 27 days before the fixed date in Central Europe; the
# DES cookie has a max_age of 30 days, so it ends 3 days after the fixed date.
earlier = at(2026, 10, 26, 10, 42, 18, 549_512_137, '+01:00')
write('expiring', [
  des(earlier, max_age: 30 * 86_400),
  myacinfo(earlier, earlier + 31 * 86_400),
  dqsid(earlier),
])

# expired: logged in on 1 October in UTC; everything ended on 31 October.
old = Time.utc(2026, 10, 1, 8, 0, 0) + Rational(123_456, 1_000_000)
write('expired', [
  des(old, expires: Time.utc(2026, 10, 31, 8, 0, 0)),
  myacinfo(old, Time.utc(2026, 10, 31, 8, 0, 0)),
  dqsid(old),
])

# noauth: only the short-lived dqsid cookie survived the filter.
write('noauth', [dqsid(now), other(now)])

# want.txt is what Ruby itself makes of each fixture, for the Go tests to
# agree with: every cookie's name and HTTP::Cookie#expires (in UTC, or "-"
# for a session cookie), read back as spaceship reads FASTLANE_SESSION.
File.open(File.join(DIR, 'want.txt'), 'w') do |out|
  %w[valid expiring expired noauth].each do |name|
    text = File.read(File.join(DIR, "#{name}.session")).gsub('\\n', "\n")
    YAML.safe_load(text, permitted_classes: [HTTP::Cookie, Time], aliases: true).each do |c|
      expires = c.expires ? c.expires.utc.strftime('%Y-%m-%dT%H:%M:%S.%NZ') : '-'
      out.puts [name, c.name, expires].join(' ')
    end
  end
end
