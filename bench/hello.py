"""The reference app of the benchmarks: a bare Flask hello-world, served by the same server as the sandbox."""

from flask import Flask

app = Flask("hello")


@app.get("/")
def hello():
    return "Hello, World!"
