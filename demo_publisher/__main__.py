"""python -m demo_publisher [--port 8001] [--config var/demo-publisher.json]"""

from demo_publisher.app import main

main()
