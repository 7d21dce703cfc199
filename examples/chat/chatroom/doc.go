// Package chatroom is the chat example's room, split from its command so
// that the same room runs in one process (Memory, the default) or across
// processes (a Hub backed by a broker, such as the Redis hub of the
// chatcluster module).
//
// A Hub is the broadcast seam: Join and Leave keep presence (who is in a
// room), Publish sends a line to every member of a room wherever it is
// connected, Members lists the room. Every hub delivers through a Local:
// the members connected to this process, each with a bounded queue of
// *ws.PreparedMessage. A line is framed and compressed once (ws.Prepare)
// for all local members and queued for each without waiting; a member
// whose queue is full is closed with 1008 and dropped, so one slow reader
// never stalls the room.
//
// The seam sits beside the library, not in it: ws already offers the
// primitive a hub needs (Prepare and Conn.SendPrepared), and everything a
// hub adds — queue length, which close code a slow member gets, history,
// the wire format of presence, what to do while the broker is away — is
// application policy that differs between services. Kept here, a broker
// implementation lives in a module of its own and the library's go.mod
// gains nothing.
//
// # Wire format
//
// Every message a client receives is a text message:
//
//	@ID name: text     a member's line
//	@ID * notice       joins, leaves, drops: recorded like a line
//	* notice           relay outages, MissedLine: true only now, no ID
//	@members ["a","b"] the room's member list (JSON), sent on every change
//
// A client sends plain text lines; the hub prefixes its name. An ID is
// "MS-SEQ" (CompareID orders them): a Redis stream entry ID in the
// cluster, the process's start time and a counter in Memory. A client
// that reconnects with ?since=ID (Resume and DialAnyResume do it for Go
// clients, the page by itself) gets the lines after ID and then the
// live ones, none twice, or MissedLine first if the room no longer keeps
// ID.
package chatroom
